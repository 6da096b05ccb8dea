"""The session's training run: the Trainer lives in `st.session_state`, the thread in the core.

Contract with the Inspect page: when a run finishes or is stopped, the trained Seq2Seq is
`st.session_state["model"]` and its TrainConfig `st.session_state["train_config"]`.
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc
from seq2seq_core.budget import Cost, check_run

from . import identity
from .history import track
from .session import limits, start_job

TRAINER = "trainer"
RECORDER = "recorder"
DRAFT = "_draft_model"
ACTIVE = ("running", "paused")


def trainer() -> sc.Trainer | None:
    return st.session_state.get(TRAINER)


def recorder_note() -> str:
    """Why the session's run is no longer recorded in the history ('' if it is)."""
    rec = st.session_state.get(RECORDER)
    return getattr(rec, "lost", "") if rec is not None else ""


def is_active() -> bool:
    t = trainer()
    return t is not None and t.status in ACTIVE


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


def start(choice, model: sc.Seq2Seq | None = None, label: str | None = None) -> str:
    """Start training the draft model (or `model`, to continue training it) with the
    choice's training settings; returns an error message or ''.

    The run is recorded in the run history (Experiments page) as it trains.
    """
    if is_active():
        return "A training is already running in this tab: stop it first."
    continuing = model is not None
    task, config = (model.task, model.config) if continuing else (choice.task, choice.model_config)
    try:
        check_run(task, config, choice.train_config, limits())
    except sc.InvalidInput as err:
        return str(err)
    model = model if continuing else sc.Seq2Seq.build(task, config, seed=choice.train_config.seed)
    t = sc.Trainer(model, choice.train_config)
    name = f"continued: {model.task.name} {describe_model(model.config)}" if continuing else None

    def launch() -> None:
        rec = track(t, name=name, owner=identity.owner_id())
        st.session_state[RECORDER] = rec
        if rec is None:
            t.start()
        else:
            t.start(on_chunk=rec, on_end=rec.finish)

    message = start_job(t, "a training (Train page)", start=launch)
    if message:
        return message
    st.session_state[TRAINER] = t
    st.session_state["_published"] = None
    st.session_state["run_label"] = label or \
        f"{model.task.title} · {describe_model(model.config)}"
    return ""


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
    if t is None or t.status not in ("finished", "stopped") or t.is_alive:
        return False
    if st.session_state.get("_published") is t:
        return False
    st.session_state["model"] = t.model
    st.session_state["train_config"] = t.config
    st.session_state.pop("model_source", None)  # no longer the uploaded file
    st.session_state["_published"] = t
    return True


def describe_model(m: sc.ModelConfig) -> str:
    cell = m.cell.upper()
    units = f"{m.units}/{m.decoder_units}" if m.arch == "repeat" and m.decoder_units else f"{m.units}"
    extras = [x for x, on in (("bidirectional", m.bidirectional), ("reversed source", m.reverse_source),
                              (f"embedding {m.embedding}", m.embedding),
                              (f"{m.layers} layers", m.layers > 1),
                              (f"dropout {m.dropout:g}", m.dropout)) if on]
    arch = f"attention ({m.attention})" if m.arch == "attention" else m.arch
    return f"{arch}, {cell} {units}" + (f" ({', '.join(extras)})" if extras else "")
