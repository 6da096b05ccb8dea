"""Where this server's trainings run, shown in the sidebar; the teacher chooses.

The choice is process-wide (`seq2seq_core.executors.select`): with Ray selected, every
student's Train-page run goes to the Ray cluster (or a local Ray), so the server's cap on
trainings at once becomes the cluster's capacity. Showing it never starts Ray.
"""
from __future__ import annotations

import math

import streamlit as st

from seq2seq_core import executors

from . import identity
from .session import limits

CHOICES = {"local": executors.LABELS["local"].capitalize(),
           "ray": "Ray (a local Ray, or the cluster in $" + executors.ADDRESS_ENV + ")"}


def describe() -> str:
    """ "Trainings run in this server's process (2 CPUs…)" or on Ray, with its size (the
    cluster's address only for the teacher)."""
    return f"Trainings run: {executors.capacity().describe(identity.is_teacher())}."


def allowed_workers(requested: int, trainings: int) -> int:
    """The trainings at once a sweep or study gets: what was asked, at most one per
    training and, but for the teacher, at most the server's per-job share of Ray."""
    cap = requested if identity.is_teacher() else min(requested, limits().workers_per_job)
    return max(1, min(cap, trainings))


def at_once(requested: int, trainings: int) -> tuple[int, str]:
    """How many of a sweep's or study's trainings will really train at once (what it may
    ask for, and what the executor it goes to has room for), and a line saying where."""
    allowed = allowed_workers(requested, trainings)
    where = executors.for_runs(allowed)
    if where.name == "local":
        return 1, "One at a time, in this server's process."
    cap = where.capacity()
    really = min(allowed, cap.workers)
    text = (f"{cap.describe(identity.is_teacher())}. Each training runs in its own Ray "
            "worker; trainings at once share the CPUs, so each trains more slowly than alone "
            "(time budgets are per training).")
    if allowed < requested:
        text += f" This server lets one job train at most {allowed} at once."
    return really, text


def longest_seconds(trainings: int, together: int, seconds: float) -> float:
    """The longest a sweep or study trains: rounds of `together` trainings of `seconds`."""
    return math.ceil(trainings / together) * seconds


def for_runs(workers: int, what: str):
    """Where a sweep's or a study's trainings run (Ray started here when they need it), or
    (None, why not)."""
    where = executors.for_runs(workers)
    if where.started:
        return where, ""
    try:
        with st.spinner("Starting Ray…"):
            where.prepare()
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
