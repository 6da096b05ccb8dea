"""The session's training run: the Trainer lives in `st.session_state`, the thread in the core.

Contract with the Inspect page: when a run finishes or is stopped, the trained Seq2Seq is
`st.session_state["model"]` and its TrainConfig `st.session_state["train_config"]`.
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc

from .history import track
from .session import REGISTRY, TrainingCapReached, current_session_id

TRAINER = "trainer"
DRAFT = "_draft_model"
ACTIVE = ("running", "paused")


def trainer() -> sc.Trainer | None:
    return st.session_state.get(TRAINER)


def is_active() -> bool:
    t = trainer()
    return t is not None and t.status in ACTIVE


def draft_model(choice, fresh: bool = False) -> sc.Seq2Seq:
    """The untrained model the widgets describe, for its summary; rebuilt only when they
    change. `fresh=True` (Start) never returns a model an earlier run has trained.

    Start marks the draft as used rather than dropping it, so the rerun after Start does not
    build a new network (a second or so of CPU) while the run compiles and trains.
    """
    key = choice.model_key()
    cached = st.session_state.get(DRAFT)
    if cached and cached[0] == key and not (fresh and cached[2]):
        return cached[1]
    model = sc.Seq2Seq.build(choice.task, choice.model_config, seed=choice.train_config.seed)
    st.session_state[DRAFT] = (key, model, False)
    return model


def start(choice, model: sc.Seq2Seq | None = None, label: str | None = None) -> str:
    """Start training the draft model (or `model`, to continue training it) with the
    choice's training settings; returns an error message or ''.

    The run is recorded in the run history (Experiments page) as it trains.
    """
    if is_active():
        return "A training is already running in this tab: stop it first."
    continuing = model is not None
    model = model if continuing else draft_model(choice, fresh=True)
    t = sc.Trainer(model, choice.train_config)
    name = f"continued: {model.task.name} {describe_model(model.config)}" if continuing else None

    def launch() -> None:
        rec = track(t, name=name)
        if rec is None:
            t.start()
        else:
            t.start(on_chunk=rec, on_end=rec.finish)

    try:
        REGISTRY.register(t, current_session_id(), start=launch)
    except TrainingCapReached as err:
        return str(err)
    if not continuing:
        key, draft, _ = st.session_state[DRAFT]
        st.session_state[DRAFT] = (key, draft, True)  # the next Start builds a fresh model
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
