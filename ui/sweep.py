"""The session's sweep (size x complexity grid) in `st.session_state`, under the training cap.

A Sweep has `start()`, `stop()` and `is_alive`, so it is registered in `ui.session.REGISTRY`
like a Trainer: it counts against the cap on concurrent trainings, and the registry stops it
when its browser session has gone away.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seq2seq_core.budget import check_runs
from seq2seq_core.errors import InvalidInput
from seq2seq_core.sweep import (
    COMPLEXITY,
    TASK_TITLES,
    Sweep,
    SweepConfig,
    load_saved,
    parse_cell_name,
    plural,
    results_from_history,
    saved_sweeps,
    sweep_title,
    when,
)

from . import identity
from .history import get_history
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


PAST_COLUMNS = ["sweep_id", "label", "created", "result_id"]
STUDY_TAG = "study:"  # studies record their runs with tags like "study:reverse:attention:..."


def past_sweeps() -> pd.DataFrame:
    """One row per sweep in the history, newest first: sweep_id, label (what was swept and
    when), created, result_id (its saved results; <NA> for sweeps known only by their runs)."""
    history = get_history()
    rows, seen = [], set()
    for r in saved_sweeps(history).itertuples():
        sweep_id = r.config.get("sweep_id")
        if not sweep_id or sweep_id in seen:
            continue
        seen.add(sweep_id)
        rows.append({"sweep_id": sweep_id, "label": _saved_label(r.tag, r.created, r.config),
                     "created": pd.Timestamp(r.created), "result_id": int(r.id)})
    runs = _sweep_runs(history.list_runs())
    runs = runs[~runs["sweep_id"].isin(seen)]
    for sweep_id, group in runs.groupby("sweep_id"):
        rows.append({"sweep_id": sweep_id, "label": _runs_label(group),
                     "created": group["created"].min(), "result_id": pd.NA})
    if not rows:
        return pd.DataFrame(columns=PAST_COLUMNS)
    frame = pd.DataFrame(rows, columns=PAST_COLUMNS)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame.sort_values("created", ascending=False, ignore_index=True)


def latest_own_sweep() -> str | None:
    """The newest sweep this person ran, to show again after a reload (None: there is none)."""
    runs = _sweep_runs(get_history().list_runs())
    mine = runs[runs["owner"] == identity.owner_id()]
    return None if mine.empty else str(mine.sort_values("id")["sweep_id"].iloc[-1])


def _sweep_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that are cells of a sweep (studies tag their runs too, with STUDY_TAG)."""
    tags = runs["sweep_id"]
    return runs[tags.notna() & ~tags.astype(str).str.startswith(STUDY_TAG)]


def _saved_label(tag: str, created, config: dict) -> str:
    label = f"{tag} · {when(created)}"
    trained, cells = config.get("trained"), config.get("cells")
    if config.get("status") != "finished" and trained is not None and cells:
        label += f" · {config.get('status')}, {trained} of {plural(cells, 'cell')} trained"
    return label


def _runs_label(runs: pd.DataFrame) -> str:
    """A name for a sweep known only by its runs (saved before sweeps kept their config)."""
    task = str(runs["task"].iloc[0])
    parsed = [parse_cell_name(n) for n in runs["name"]]
    if parsed and all(parsed) and len({k for k, _ in parsed}) == 1:
        title = sweep_title(task, parsed[0][0], sorted({v for _, v in parsed}),
                            sorted({int(u) for u in runs["units"].dropna()}))
    else:
        title = f"{TASK_TITLES.get(task, task.capitalize())} sweep, {plural(len(runs), 'cell')}"
    label = f"{title} · {when(runs['created'].min())}"
    if (runs["status"] == "running").any():
        label += " · in progress"
    return label


def complexity_key_of(sweep_id: str) -> str:
    """Which setting a sweep known only by its runs varied: from its run names, else from
    the settings that differ between its runs (the fallback for sweeps saved before sweeps
    kept their config)."""
    history = get_history()
    runs = history.list_runs(sweep_id)
    for name in runs["name"]:
        if parsed := parse_cell_name(name):
            return parsed[0]
    infos = [history.get(int(i)) for i in runs["id"]]
    task = infos[0].task if infos else "addition"
    for key in COMPLEXITY.get(task, {}):
        field = "largest" if key == "digits" else key
        if len({getattr(i.settings, field, None) for i in infos}) > 1:
            return key
    return next(iter(COMPLEXITY.get(task, {"n_terms": ""})))


def load_past(sweep_id: str) -> pd.DataFrame:
    """A past sweep's results: from its saved config and table, else rebuilt from its runs."""
    history = get_history()
    saved = saved_sweeps(history)
    for r in saved.itertuples():
        if r.config.get("sweep_id") == sweep_id:
            frame = load_saved(history, int(r.id))[1]
            frame.attrs["when"] = when(r.created)
            return frame
    runs = history.list_runs(sweep_id)
    frame = results_from_history(history, sweep_id, complexity_key_of(sweep_id))
    frame.attrs["when"] = when(runs["created"].min()) if len(runs) else ""
    return frame
