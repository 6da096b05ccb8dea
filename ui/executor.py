"""Where this server's trainings run, shown in the sidebar; the teacher chooses.

The choice is process-wide (`seq2seq_core.executors.select`): with Ray selected, every
student's Train-page run goes to the Ray cluster (or a local Ray), so the server's cap on
trainings at once becomes the cluster's capacity. Showing it never starts Ray.
"""
from __future__ import annotations

import streamlit as st

from seq2seq_core import executors

from . import identity
from .session import limits

CHOICES = {"local": "This server's process", "ray": "Ray (local, or the cluster in "
           f"${executors.ADDRESS_ENV})"}


def describe() -> str:
    """ "Trainings run in this server's process (2 CPUs…)" or on Ray, with its size."""
    return f"Trainings run: {executors.capacity().describe()}."


def training_cap() -> int:
    """How many trainings may run at once: the server's cap, or the Ray cluster's capacity."""
    cap = limits().max_trainings
    if executors.selected_name() == "ray":
        cap = max(cap, executors.capacity().workers)
    return cap


def for_runs(workers: int, what: str):
    """Where a sweep's or a study's trainings run (Ray started here when they need it), or
    (None, why not)."""
    where = executors.for_runs(workers)
    if where.name != "ray" or where.started:
        return where, ""
    try:
        with st.spinner("Starting Ray…"):
            where.ensure()
    except Exception as err:  # noqa: BLE001 - e.g. no Ray cluster at the address
        return None, f"Ray could not start, so the {what} cannot run in parallel: {err}"
    return where, ""


def _select() -> None:
    executors.select(st.session_state["w_executor"])


def executor_panel() -> None:
    """The sidebar's line on where trainings run; the teacher's switch between executors."""
    with st.sidebar.expander("Where trainings run", icon=":material/dns:"):
        st.caption(describe())
        if not identity.is_teacher():
            return
        st.session_state["w_executor"] = executors.selected_name()
        st.radio("Run Train-page trainings in", list(CHOICES), format_func=CHOICES.get,
                 key="w_executor", on_change=_select,
                 help="For the whole server. Ray runs each training in a worker process "
                      "(starting a local Ray on the first training, or attaching to the "
                      f"cluster in ${executors.ADDRESS_ENV}); a worker that crashes fails "
                      "only its own run. Sweeps and studies with more than one worker use "
                      "Ray either way.")
