"""The session's training run: the Trainer lives in `st.session_state`, the thread in the core.

Contract with the Inspect page: when a run finishes or is stopped, the trained Seq2Seq
becomes the session's model (`ui.models.set_model`, with its run id when the run history
kept it) and its TrainConfig `st.session_state["train_config"]`.
"""
from __future__ import annotations

import math
import time

import streamlit as st

import seq2seq_core as sc
from seq2seq_core import executors
from seq2seq_core.budget import Cost, check_run
from seq2seq_core.explain import run_name
from seq2seq_core.jobs import Training, TrainingJob
from seq2seq_core.persistence import to_bytes
from seq2seq_core.training import check_watched

from . import identity
from .history import track
from .current import set_model
from .session import limits, start_job

TRAINER = "trainer"
RECORDER = "recorder"
DRAFT = "_draft_model"
REPLAY = "_replay"
WATCHED = "train_watched"    # the watched inputs, checked: a tuple of texts
WATCH_BOX = "w_watch_inputs"  # the text box they are typed in, one per line (kept by form)
WATCH_ERROR = "train_watch_error"
WATCH_DROPPED = "train_watch_dropped"  # why some watched inputs were left out of the run
PREVIOUS = "train_previous"  # (the run "Run again" repeats, its label), drawn under the new one
CONTINUED = "train_continued"  # the session's run continued an earlier model
START_ERROR = "train_start_error"  # why a Start from a callback (Run again) failed
STEP_WAIT_SECONDS = 5.0      # how long Step one batch waits for its chunk before redrawing
# Lecture pace: a run that trained faster than this is replayed, chunk by chunk, at about
# REPLAY_CHUNK_SECONDS a chunk (within REPLAY_SECONDS), so a class sees it learn.
REPLAY_SECONDS = 20.0
REPLAY_CHUNK_SECONDS = 1.5


def trainer() -> TrainingJob | None:
    """The session's training job (in this process or on Ray), if it started one."""
    return st.session_state.get(TRAINER)


def published_model() -> sc.Seq2Seq | None:
    """The model of the session's last run once it was handed to Inspect (else None; an
    unfinished run on Ray has no model here yet)."""
    t = trainer()
    return t.model if t is not None and st.session_state.get("_published") is t else None


def recorder_note() -> str:
    """Why the session's run is no longer recorded in the history ('' if it is)."""
    rec = st.session_state.get(RECORDER)
    return getattr(rec, "lost", "") if rec is not None else ""


def is_active() -> bool:
    t = trainer()
    return t is not None and t.status.active


def cost(choice) -> tuple[Cost | None, str]:
    """What the widgets' run would cost, by formula (nothing is built), or why this server
    cannot afford it."""
    if not choice.ok:
        return None, ""
    try:
        return check_run(choice.task, choice.model_config, choice.train_config, limits()), ""
    except sc.InvalidInput as err:
        return None, str(err)


def draft_model(choice) -> sc.Seq2Seq:
    """The untrained network the widgets describe, for its layer table; built only when asked
    for (and only once its cost is known to be affordable), rebuilt when the widgets change."""
    key = choice.model_key()
    cached = st.session_state.get(DRAFT)
    if cached and cached[0] == key:
        return cached[1]
    model = sc.Seq2Seq.build(choice.task, choice.model_config, seed=choice.train_config.seed)
    st.session_state[DRAFT] = (key, model)
    return model


def start(choice, model: sc.Seq2Seq | None = None, label: str | None = None,
          again: TrainingJob | None = None) -> str:
    """Start training the draft model (or a copy of `model`, to continue training it) with
    the choice's training settings, on the server's executor; returns an error message or ''.

    `again`: train that run's task, network and settings once more (same seed), its curves
    kept to draw under the new run's. The run is recorded in the run history (Experiments
    page) as it trains, and watches the session's watched inputs.
    """
    if is_active():
        return "A training is already running in this tab: stop it first."
    continuing = model is not None
    if again is not None:
        task, config, train_config = again.task, again.model_config, again.train_config
    else:
        task, config, train_config = choice.task, choice.model_config, choice.train_config
    if continuing:
        task, config = model.task, model.config
    try:
        check_run(task, config, train_config, limits())
    except sc.InvalidInput as err:
        return str(err)
    watched = watched_for(task)
    where = executors.selected()
    try:
        with st.spinner("Building the network…" if where.started else "Starting Ray…"):
            t = where.train(Training(task, config, train_config,
                                     start_from=to_bytes(model) if continuing else None,
                                     watched=watched))
    except sc.InvalidInput as err:  # e.g. no Ray cluster at the address
        return f"The training could not start in {where.label}: {err}"
    except Exception as err:  # noqa: BLE001 - Ray failed to start: say so, keep the page
        return f"The training could not start in {where.label}: {type(err).__name__}: {err}"
    name = run_name(task.name, task.settings, config, train_config)
    if continuing:
        name = f"continued: {name}"
    elif again is not None:
        name = f"again, seed {train_config.seed}: {name}"

    def launch() -> None:
        rec = track(t, name=name, owner=identity.owner_id(), keep=limits().keep_models())
        st.session_state[RECORDER] = rec
        if rec is None:
            t.start()
        else:
            t.start(on_chunk=rec, on_end=rec.finish)

    message = start_job(t, "a training (Train page)", start=launch, pool=t.executor)
    if message:
        return message
    previous = (again, st.session_state.get("run_label", "")) if again is not None else None
    st.session_state[TRAINER] = t
    st.session_state[PREVIOUS] = previous
    st.session_state[CONTINUED] = continuing
    st.session_state["_published"] = None
    st.session_state.pop(REPLAY, None)
    st.session_state["run_label"] = label or name
    return ""


def previous_run() -> tuple[TrainingJob, str] | None:
    """The run the current one repeats ("Run again with the same seed") and its label."""
    return st.session_state.get(PREVIOUS)


def watched_for(task) -> tuple[str, ...]:
    """The session's watched inputs that this task takes; the others are left out, and
    the page says which and why (`WATCH_DROPPED`), rather than refusing to start."""
    kept, dropped = [], []
    for text in st.session_state.get(WATCHED, ()):
        try:
            kept.extend(check_watched(task, [text]))
        except sc.InvalidInput as err:
            dropped.append(str(err))
    st.session_state[WATCH_DROPPED] = " ".join(dropped)
    return check_watched(task, kept)


def continued() -> bool:
    """The session's run continued an earlier model (rather than training a new network)."""
    return bool(st.session_state.get(CONTINUED))


def can_run_again() -> bool:
    """A run that ended with curves and trained a new network (a continued run started from
    another model, which a new run would not)."""
    t = trainer()
    return (t is not None and not t.is_alive and t.status.ended and bool(t.snapshot().history)
            and not continued())


def run_again() -> None:
    """Run again with the same seed: the last run's settings, its curves kept (a callback:
    the error, if any, is shown by the page)."""
    t = trainer()
    if t is None:
        return
    if message := start(None, again=t):
        st.session_state[START_ERROR] = message


def step_batch() -> None:
    """Step one batch (a callback): train one batch of the paused run, and wait a moment
    for its chunk so the redraw shows it."""
    t = trainer()
    if t is None:
        return
    before = len(t.snapshot().history)
    if not t.step_batch():
        return
    deadline = time.monotonic() + STEP_WAIT_SECONDS
    while len(t.snapshot().history) == before and time.monotonic() < deadline:
        time.sleep(0.05)


def watch_changed(task) -> None:
    """The watched-inputs box changed (a callback): check its lines for the task that
    trains now (else `task`, the one the settings describe), keep them, and pass them to
    a run under way. A bad line keeps the inputs watched before and says why."""
    state = st.session_state
    lines = [line.strip() for line in str(state.get(WATCH_BOX, "")).splitlines()]
    t = trainer()
    state[WATCH_ERROR] = ""
    try:
        if t is not None and t.status.active:
            task = t.task
            t.watch(lines)
        state[WATCHED] = (check_watched(task, lines) if task is not None
                          else tuple(line for line in lines if line))  # checked at Start
    except sc.InvalidInput as err:
        state[WATCH_ERROR] = str(err)


def pause() -> None:
    if (t := trainer()) is not None:
        t.pause()


def resume() -> None:
    if (t := trainer()) is not None:
        t.resume()


def stop() -> None:
    if (t := trainer()) is not None:
        t.stop()


def publish_if_done() -> bool:
    """Hand a finished or stopped run's model to the Inspect page (once). True if it did now."""
    t = trainer()
    if t is None or not t.status.keeps_model or t.is_alive:
        return False
    if st.session_state.get("_published") is t:
        return False
    rec = st.session_state.get(RECORDER)
    kept = rec is not None and rec.trainer is t and rec.kept_model
    model = t.model  # a Ray run's model comes back as bytes, loaded here once
    if model is None:
        return False  # it trained nothing: there is no model to hand over
    set_model(model, run_id=rec.run_id if kept else None)
    st.session_state["train_config"] = t.train_config
    st.session_state["_published"] = t
    start_replay(t)
    return True


def start_replay(t: TrainingJob) -> None:
    """Replay a fast finished run at lecture pace, if the Train page asks for that."""
    snap = t.snapshot()
    if st.session_state.get("w_lecture_pace") and snap.status == sc.Status.FINISHED \
            and snap.train_seconds < REPLAY_SECONDS and len(snap.history) > 1:
        seconds = min(REPLAY_SECONDS, REPLAY_CHUNK_SECONDS * len(snap.history))
        st.session_state[REPLAY] = (t, time.monotonic(), seconds)


def replay_shown(t: TrainingJob | None) -> int | None:
    """How many of the run's chunks the lecture-pace replay shows now; None when no replay
    is under way (never started, skipped, or over)."""
    replay = st.session_state.get(REPLAY)
    if t is None or replay is None or replay[0] is not t:
        return None
    fraction = (time.monotonic() - replay[1]) / replay[2]
    if fraction >= 1.0:
        st.session_state.pop(REPLAY, None)
        return None
    return max(1, math.ceil(fraction * len(t.snapshot().history)))


def skip_replay() -> None:
    st.session_state.pop(REPLAY, None)
