"""The session's current model: the one the Inspect page shows and the Train page saves.

It comes from a finished or stopped training, an uploaded file, or a run of the history
whose model was kept (Experiments' "Open in Inspect", Inspect's recent runs, or the run
named in the Inspect page's address after a reload). These keys are owned here only.
"""
from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.history import run_title

from . import identity
from .history import get_history
from .session import TrainingCapReached, job_slot, limits

MODEL, SOURCE, RUN = "model", "model_source", "model_run"
log = logging.getLogger(__name__)


def model() -> sc.Seq2Seq | None:
    return st.session_state.get(MODEL)


def source() -> str | None:
    """The uploaded file's name, if the current model came from one."""
    return st.session_state.get(SOURCE)


def run_id() -> int | None:
    """The history run whose kept model this is, if any."""
    return st.session_state.get(RUN)


def set_model(new: sc.Seq2Seq, source: str | None = None, run_id: int | None = None) -> None:
    st.session_state[MODEL] = new
    st.session_state[SOURCE] = source
    st.session_state[RUN] = run_id


class Busy(str):
    """Why a run cannot be opened *now* (the server is at its job limit): try again later."""


def open_run(run: int) -> str:
    """Make a run's kept model the current one; returns why it cannot be opened, or ''
    (a `Busy` message when only the job limit is in the way).

    Only the run's owner (or the teacher) may open it; the file is loaded as untrusted,
    like an upload, under a job slot.
    """
    def load(max_params: int) -> sc.Seq2Seq:
        data = get_history().model_file(int(run), by=identity.manager())
        return sc.from_bytes(data, max_params=max_params)
    return open_model(load, f"the model of run {run}", run_id=int(run))


def open_model(load, what: str, source: str | None = None, run_id: int | None = None) -> str:
    """Load a kept model (`load(max_params)`: a run's file, a shelf entry) under a job slot,
    checked like an upload, and make it the current one; returns why it cannot be opened,
    or '' (a `Busy` message when only the job limit is in the way)."""
    try:
        with job_slot("loading a model"):
            loaded = load(limits().max_params)
    except TrainingCapReached as err:
        return Busy(str(err))
    except sc.InvalidInput as err:  # ModelFileError too
        return str(err)
    except Exception:  # noqa: BLE001 - a damaged file never crashes a page
        log.exception("could not open %s", what)
        return sc.persistence.UNREADABLE
    set_model(loaded, source=source, run_id=run_id)
    return ""


def openable_runs(limit: int | None = None) -> pd.DataFrame:
    """History runs with a kept model that this session may open, newest first."""
    return get_history().kept_models(owner=identity.manager(), limit=limit)


def run_label(row) -> str:
    """'#12 name — 99% · 0.3 MB' for a list_runs row."""
    name = run_title(row["id"], row["name"])
    score = "" if pd.isna(row["exact_match"]) else f" — {row['exact_match']:.0%} exact match"
    size = "" if pd.isna(row["model_bytes"]) else f" · {row['model_bytes'] / 1e6:.1f} MB"
    return f"{name}{score}{size}"
