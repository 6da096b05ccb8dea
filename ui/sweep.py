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
from seq2seq_core.history import STALE_SECONDS
from seq2seq_core.status import ENDED, Status
from seq2seq_core.sweep import (
    AXES,
    Sweep,
    SweepConfig,
    load_saved,
    results_from_history,
    results_so_far,
    saved_sweeps,
    sweep_title,
    when,
)
from seq2seq_core.tasks import REGISTRY
from seq2seq_core.vocab import plural

from . import identity
from .executor import allowed_workers, for_runs
from .history import get_history
from .session import limits, start_job

SWEEP = "sweep_obj"
RESULTS = "sweep_results"


def current() -> Sweep | None:
    return st.session_state.get(SWEEP)


def is_running() -> bool:
    s = current()
    return s is not None and (s.is_alive or s.status == Status.RUNNING)


def start(config: SweepConfig, workers: int = 1) -> str:
    """Start a sweep recorded in the history, `workers` cells at a time (on Ray when more
    than one); returns an error message or ''."""
    if is_running():
        return "A sweep is already running in this tab: stop it first."
    try:
        check_runs(config.runs(), config.train_config, limits())
    except InvalidInput as err:
        return str(err)
    workers = allowed_workers(workers, config.size)
    where, why = for_runs(workers, "sweep")
    if where is None:
        return why
    sweep = Sweep(config, get_history(), owner=identity.owner_id(), executor=where,
                  workers=workers)
    message = start_job(sweep, "a sweep (Sweep page)", pool=where.name)
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
    all_runs = _sweep_runs(history.list_runs())
    rows, seen = [], set()
    for r in saved_sweeps(history).itertuples():
        sweep_id = r.config.get("sweep_id")
        if not sweep_id or sweep_id in seen:
            continue
        seen.add(sweep_id)
        own = all_runs[all_runs["sweep_id"] == sweep_id]
        rows.append({"sweep_id": sweep_id, "label": _saved_label(r.tag, r.created, r.config, own),
                     "created": pd.Timestamp(r.created), "result_id": int(r.id)})
    runs = all_runs[~all_runs["sweep_id"].isin(seen)]
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


def _saved_label(tag: str, created, config: dict, runs: pd.DataFrame) -> str:
    label = f"{tag} · {when(created)}"
    status, trained, cells = config.get("status"), config.get("trained"), config.get("cells")
    if status not in ENDED:
        label += " · in progress" if _still_running(created, runs) else " · interrupted"
    elif status != Status.FINISHED and trained is not None and cells:
        label += f" · {status}, {trained} of {plural(cells, 'cell')} trained"
    return label


def _still_running(created, runs: pd.DataFrame) -> bool:
    """Whether a sweep saved as not ended still trains somewhere: one of its runs is active
    (see History.is_active), or it started only moments ago. A server that stopped mid-sweep
    leaves it "interrupted"."""
    history = get_history()
    if any(history.is_active(int(r["id"]), r) for _, r in runs.iterrows()):
        return True
    started = pd.Timestamp(created)
    started = started if started.tzinfo else started.tz_localize("UTC")
    return runs.empty and (pd.Timestamp.now(tz="UTC") - started).total_seconds() < STALE_SECONDS


def _legacy_infos(runs: pd.DataFrame) -> list:
    """The RunInfo of each run of a sweep without a saved config, skipping unreadable ones."""
    history, infos = get_history(), []
    for run_id in runs["id"]:
        try:
            infos.append(history.get(int(run_id)))
        except InvalidInput:
            continue
    return infos


def _runs_label(runs: pd.DataFrame) -> str:
    """A name for a sweep known only by its runs (saved before sweeps kept their config):
    what it varied, from the settings of its runs."""
    infos = _legacy_infos(runs)
    task = infos[0].task if infos else str(runs["task"].iloc[0])
    if infos and task in AXES:
        key = varied_setting(infos)
        values = {AXES[task][key].value_of(i.settings) for i in infos}
        title = sweep_title(task, key, sorted(values),
                            sorted({int(i.model_config.units) for i in infos}))
    else:
        title = f"{REGISTRY[task][1].label if task in REGISTRY else task} sweep"
    return f"{title} · {when(runs['created'].min())}"


def varied_setting(infos) -> str:
    """Which axis a sweep known only by its runs varied: one whose value differs between
    its runs, else one that differs from the task's default; `digits` where every largest
    number is all nines."""
    task = infos[0].task
    axes, default = AXES[task], REGISTRY[task][0]()

    def rank(ax) -> tuple[bool, bool]:
        values = {ax.value_of(i.settings) for i in infos}
        return len(values) > 1, values != {ax.value_of(default)}
    key = sorted(axes.values(), key=rank, reverse=True)[0].key
    if key == "largest" and all(set(str(i.settings.largest)) == {"9"} for i in infos):
        return "digits"
    return key


def load_past(sweep_id: str) -> pd.DataFrame:
    """A past sweep's results: its saved table (rebuilt from its runs while it still runs
    somewhere), or, for a sweep saved before sweeps kept their config, from its runs."""
    history = get_history()
    for r in saved_sweeps(history).itertuples():
        if r.config.get("sweep_id") == sweep_id:
            config, frame = load_saved(history, int(r.id))
            if r.config.get("status") not in ENDED:
                frame = results_so_far(history, config, sweep_id)
            frame.attrs["when"] = when(r.created)
            return frame
    runs = history.list_runs(sweep_id)
    infos = _legacy_infos(runs)
    if not infos or infos[0].task not in AXES:
        raise InvalidInput("This sweep's runs can no longer be read.")
    frame = results_from_history(history, sweep_id, infos[0].task, varied_setting(infos))
    frame.attrs["when"] = when(runs["created"].min()) if len(runs) else ""
    return frame
