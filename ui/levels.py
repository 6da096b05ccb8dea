"""The Why attention? page's "Why subwords?" section: the same network trained for the same
time at each token level, its held-out chrF drawn against training time.

Like the study above it, it runs in the background (a `JobRunner` in session state, keys
starting with "levels_") and a fragment polls it while it runs; the finished rows stay in
session state.
"""
from __future__ import annotations

from dataclasses import asdict

import streamlit as st

import seq2seq_core as sc
from seq2seq_core.budget import check_runs
from seq2seq_core.charts.study import levels_chart
from seq2seq_core.executors import LOCAL
from seq2seq_core.levels import (LEVELS, LevelsConfig, level_tasks, levels_frame,
                                 levels_runner, levels_summary)
from seq2seq_core.tokenizing import LEVEL_NAMES, LEVEL_WHAT

from . import identity
from .form import kept_corpus, setting_input
from .history import get_history
from .polling import POLL_SECONDS
from .session import limits, start_job
from .text import md

RUNNER, ROWS = "levels_runner", "levels_rows"
EXPLANATION = ("A model reads and writes **tokens**. Characters make long sequences from a "
               "tiny vocabulary; words make short sequences from a huge one, and a word the "
               "corpus never had cannot be read at all; **subwords** (byte-pair encoding) keep "
               "frequent words whole and spell rare ones from pieces. This trains the same "
               "network for the same time at each level and scores the held-out pairs with "
               "chrF after every chunk.")


def _runner():
    return st.session_state.get(RUNNER)


def running() -> bool:
    r = _runner()
    return r is not None and not r.status.ended


def _corpus():
    """The Train page's upload (kept across reloads), or None for the phrasebook."""
    kept = kept_corpus()
    return kept[1] if kept is not None else None


def start(cfg: LevelsConfig, corpus) -> str:
    tasks = level_tasks(cfg, corpus)
    runs = [(LEVEL_NAMES[level], tasks[level], cfg.model_config()) for level in LEVELS]
    try:
        check_runs(runs, cfg.train_config(), limits())
    except sc.InvalidInput as err:
        return str(err)
    try:
        history = get_history()
    except Exception:  # noqa: BLE001 - the comparison still runs without a history
        history = None
    job = levels_runner(cfg, tasks, LOCAL, history, identity.owner_id())
    if message := start_job(job, "the token-level comparison (Why attention? page)"):
        return message
    st.session_state[RUNNER] = job
    st.session_state.pop(ROWS, None)
    return ""


def draw(rows) -> None:
    frame = levels_frame(rows)
    if frame.empty:
        return
    frame["name"] = frame["level"].map(LEVEL_NAMES)
    st.altair_chart(levels_chart(frame, [LEVEL_NAMES[lv] for lv in LEVELS]), width="stretch")
    st.markdown(levels_summary(frame))


def progress() -> None:
    r = _runner()
    if r is None:
        return
    snap = r.snapshot()
    if snap.status.ended:
        st.rerun()  # a full rerun collects the rows and redraws the buttons
    st.progress(snap.fraction, text=f"{snap.done} of {snap.total} levels done · training "
                                    f"{snap.current or 'starting'}")
    draw(snap.rows)


def collect() -> None:
    """Move an ended comparison's rows into the results kept in session state."""
    r = _runner()
    if r is not None and r.status.ended:
        st.session_state[ROWS] = list(r.snapshot().rows)
        st.session_state[RUNNER] = None
        if r.status == sc.Status.FAILED:
            st.session_state["levels_error"] = r.error


def section() -> None:
    collect()
    st.subheader("Why subwords?", anchor=False)
    settings, about = st.columns([3, 2], gap="large")
    with about:
        st.markdown(EXPLANATION)
        st.markdown("  \n".join(f"**{LEVEL_NAMES[k]}**: {v}" for k, v in LEVEL_WHAT.items()))
    busy, corpus = running(), _corpus()
    with settings, st.container(border=True):
        st.caption(f"On {md(corpus.name)}, the pairs uploaded on the Train page."
                   if corpus is not None else
                   "On the built-in phrasebook (upload your own pairs on the Train page to "
                   "compare on them).")
        c1, c2, c3 = st.columns(3)
        for name, value in asdict(LevelsConfig()).items():
            st.session_state.setdefault(f"levels_{name}", value)
        values = {name: setting_input(col, LevelsConfig, name, key=f"levels_{name}",
                                      disabled=busy)
                  for col, name in zip((c1, c2, c3), ("seconds", "max_pairs", "units"))}
        try:
            cfg = LevelsConfig(seconds=float(values["seconds"]),
                               max_pairs=int(values["max_pairs"]), units=int(values["units"]))
        except sc.InvalidInput as err:
            st.error(md(err))
            return
        st.caption(f"3 models one after another, {cfg.seconds:.0f} s each.")
        buttons = st.container(horizontal=True)
        go = buttons.button("Compare the levels", icon=":material/play_arrow:", type="primary",
                            disabled=busy, key="levels_start")
        buttons.button("Stop", icon=":material/stop:", disabled=not busy, key="levels_stop",
                       on_click=lambda: _runner() and _runner().stop())
        if go:
            if message := start(cfg, corpus):
                st.error(md(message))
            else:
                st.rerun()
    if error := st.session_state.pop("levels_error", None):
        st.error(f"The comparison failed: {md(error)}")
    if running():
        st.fragment(progress, run_every=POLL_SECONDS)()
    elif rows := st.session_state.get(ROWS):
        draw(rows)
