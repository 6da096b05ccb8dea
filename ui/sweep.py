"""The session's sweep (size x complexity grid) in `st.session_state`, under the training cap.

A Sweep has `start()`, `stop()` and `is_alive`, so it is registered in `ui.session.REGISTRY`
like a Trainer: it counts against the cap on concurrent trainings, and the registry stops it
when its browser session has gone away.
"""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from seq2seq_core.budget import check_runs
from seq2seq_core.errors import InvalidInput
from seq2seq_core.sweep import COMPLEXITY, Sweep, SweepConfig, results_from_history

from .history import get_history
from . import identity
from .session import limits, start_job

SWEEP = "sweep_obj"
RESULTS = "sweep_results"
ACTIVE = ("ready", "running")


def current() -> Sweep | None:
    return st.session_state.get(SWEEP)


def is_running() -> bool:
    s = current()
    return s is not None and (s.is_alive or s.status == "running")


def start(config: SweepConfig) -> str:
    """Start a sweep recorded in the history; returns an error message or ''."""
    if is_running():
        return "A sweep is already running in this tab: stop it first."
    try:
        check_runs(config.runs(), config.train_config, limits())
    except InvalidInput as err:
        return str(err)
    sweep = Sweep(config, get_history(), owner=identity.owner_id())
    message = start_job(sweep, "a sweep (Sweep page)")
    if message:
        return message
    st.session_state[SWEEP] = sweep
    st.session_state.pop(RESULTS, None)
    return ""


def stop() -> None:
    if (s := current()) is not None:
        s.stop()


def past_sweeps() -> pd.DataFrame:
    """One row per sweep in the history: sweep_id, runs, task, created, best exact match."""
    runs = get_history().list_runs()
    runs = runs[runs["sweep_id"].notna()]
    if runs.empty:
        return pd.DataFrame(columns=["sweep_id", "runs", "task", "created", "name"])
    grouped = runs.groupby("sweep_id").agg(runs=("id", "size"), task=("task", "first"),
                                           created=("created", "min"), name=("name", "last"))
    return grouped.reset_index().sort_values("created", ascending=False, ignore_index=True)


def complexity_key_of(sweep_id: str) -> str:
    """Which setting a stored sweep varied: from its run names, else from its settings."""
    history = get_history()
    runs = history.list_runs(sweep_id)
    for name in runs["name"]:
        match = re.search(r": (\w+)=", str(name))
        if match and any(match.group(1) in keys for keys in COMPLEXITY.values()):
            return match.group(1)
    infos = [history.get(int(i)) for i in runs["id"]]
    task = infos[0].task if infos else "addition"
    for key in COMPLEXITY.get(task, {}):
        field = "largest" if key == "digits" else key
        if len({getattr(i.settings, field, None) for i in infos}) > 1:
            return key
    return next(iter(COMPLEXITY.get(task, {"n_terms": ""})))


def load_past(sweep_id: str) -> pd.DataFrame:
    key = complexity_key_of(sweep_id)
    frame = results_from_history(get_history(), sweep_id, key)
    task = get_history().list_runs(sweep_id)["task"].iloc[0]
    frame.attrs["complexity_label"] = COMPLEXITY.get(task, {}).get(key, key)
    frame.attrs["task"] = task
    return frame
