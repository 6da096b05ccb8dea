"""The session's training run: the Trainer lives in `st.session_state`, the thread in the core.

Contract with the Inspect page: when a run finishes or is stopped, the trained Seq2Seq is
`st.session_state["model"]` and its TrainConfig `st.session_state["train_config"]`.
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc

from .session import REGISTRY, TrainingCapReached, current_session_id

TRAINER = "trainer"
DRAFT = "_draft_model"
ACTIVE = ("running", "paused")


def trainer() -> sc.Trainer | None:
    return st.session_state.get(TRAINER)


def is_active() -> bool:
    t = trainer()
    return t is not None and t.status in ACTIVE


def draft_model(choice) -> sc.Seq2Seq:
    """The untrained model the widgets describe, rebuilt only when they change."""
    key = choice.model_key()
    cached = st.session_state.get(DRAFT)
    if cached and cached[0] == key:
        return cached[1]
    model = sc.Seq2Seq.build(choice.task, choice.model_config, seed=choice.train_config.seed)
    st.session_state[DRAFT] = (key, model)
    return model


def start(choice) -> str:
    """Start training the draft model; returns an error message or ''."""
    if is_active():
        return "A training is already running in this tab: stop it first."
    model = draft_model(choice)
    t = sc.Trainer(model, choice.train_config)
    try:
        REGISTRY.register(t, current_session_id())
    except TrainingCapReached as err:
        return str(err)
    st.session_state.pop(DRAFT, None)  # the next Start trains a fresh model
    st.session_state[TRAINER] = t
    st.session_state["_published"] = None
    st.session_state["run_label"] = f"{choice.task.title} · {describe_model(model.config)}"
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
    st.session_state["_published"] = t
    return True


def describe_model(m: sc.ModelConfig) -> str:
    cell = m.cell.upper()
    units = f"{m.units}/{m.decoder_units}" if m.arch == "repeat" and m.decoder_units else f"{m.units}"
    extras = [x for x, on in (("bidirectional", m.bidirectional), ("reversed source", m.reverse_source),
                              (f"embedding {m.embedding}", m.embedding),
                              (f"{m.layers} layers", m.layers > 1),
                              (f"dropout {m.dropout:g}", m.dropout)) if on]
    return f"{m.arch}, {cell} {units}" + (f" ({', '.join(extras)})" if extras else "")
