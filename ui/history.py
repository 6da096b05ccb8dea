"""The process's run history (one `seq2seq_core.history.History` per database file)."""
from __future__ import annotations

import logging

import streamlit as st

from seq2seq_core.history import History, default_path

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _open(path: str) -> History:
    return History(path)


def get_history() -> History:
    """The History under $SEQ2SEQ_LAB_DATA (or ~/.seq2seq-lab), opened once per process.

    Keyed on the path, so a changed $SEQ2SEQ_LAB_DATA (tests) opens its own database.
    """
    return _open(str(default_path()))


def track(trainer, name: str | None = None, owner: str | None = None, keep=None):
    """Start recording `trainer` in the history (keeping its model at the end, with `keep`);
    None (logged) if the database fails."""
    try:
        return get_history().track(trainer, name=name, owner=owner, keep=keep)
    except Exception:  # noqa: BLE001 - a broken history never blocks training
        log.exception("could not record the run in the history")
        return None
