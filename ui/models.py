"""Saving, uploading and continuing to train a model from the Train page.

A saved model is `seq2seq_core.to_bytes(model)` (a zip with the Keras file and the task).
An uploaded one is read with `seq2seq_core.from_bytes` (Keras `safe_mode`) and becomes
the session's current model (`ui.current`) for the Inspect page; a bad file shows an error and changes
nothing. Continuing to train wraps a copy of the model in a new Trainer with the Train
page's training settings, once the page's task matches the model's.
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc
from seq2seq_core.explain import describe_model

from . import current, form, shelf, training
from .cache import remembered
from .session import TrainingCapReached, job_slot, limits
from .text import md

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_KEY = "upload_model"


def file_name(model: sc.Seq2Seq) -> str:
    return f"{model.task.name}-{model.config.arch}{sc.persistence.SUFFIX}"


def model_bytes(model: sc.Seq2Seq) -> bytes:
    """The saved file of `model`, made once per model (saving takes a moment)."""
    return remembered("_model_bytes", model, lambda: sc.to_bytes(model))


def incompatibility(model: sc.Seq2Seq, task) -> str:
    """Why `model` cannot continue training on `task` ('' if it can)."""
    if task is None:
        return "Fix the task settings first."
    mine = model.task
    if mine.name != task.name:
        return (f"This model was trained on **{mine.label}**, but the "
                f"Task above is **{task.label}**: a model can only "
                "continue on the task it learned.")
    if (mine.source_vocab, mine.target_vocab) != (task.source_vocab, task.target_vocab):
        return ("The Task above uses a different vocabulary (other symbols) than the one "
                "this model learned, so its inputs and outputs would not line up.")
    if (mine.source_len, mine.target_len) != (task.source_len, task.target_len):
        return (f"The Task above has sequences of length {task.source_len} → "
                f"{task.target_len}; this model learned {mine.source_len} → "
                f"{mine.target_len}.")
    if repr(mine.settings) != repr(task.settings):
        return "The Task settings above differ from the ones this model learned."
    return ""


def use_model_settings(model: sc.Seq2Seq) -> None:
    """Fill the Task and Network widgets from the model (training settings are kept)."""
    for key, value in form.config_values(model.task.name, model.task.settings,
                                         model.config).items():
        st.session_state[key] = value
    st.session_state.pop("preset", None)


def save_ui(model: sc.Seq2Seq | None) -> None:
    if model is None:
        st.caption("Train a model (or upload one below) to save it.")
        return
    with st.spinner("Preparing the model file…"):
        data = model_bytes(model)
    st.download_button(f"Save model ({len(data) / 1e6:.1f} MB)", data=data,
                       file_name=file_name(model), mime="application/octet-stream",
                       icon=":material/download:", key="btn_save_model",
                       help="A .s2s file: the network's weights with its task. Upload it here "
                            "or on the Inspect page later.")


def upload_ui(key: str = UPLOAD_KEY, label: str | None = None) -> None:
    """Upload a saved model: a good file becomes the session's model (the one Inspect shows);
    a bad one is reported and changes nothing. One uploader per `key` (Train, Inspect)."""
    upload = st.file_uploader(label or f"Upload a saved model ({sc.persistence.SUFFIX} file)",
                              type=[sc.persistence.SUFFIX.lstrip(".")], key=key,
                              help=f"A model saved from the Train page (a "
                                   f"{sc.persistence.SUFFIX} file, at most "
                                   f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB).")
    if upload is None:
        return
    handled_key = f"_handled_{key}"
    handled = st.session_state.get(handled_key)
    if handled is None or handled[0] != upload.file_id:
        error = ""
        if upload.size > MAX_UPLOAD_BYTES:
            error = (f"{upload.name} is {upload.size / 1e6:.1f} MB; the largest model file "
                     f"accepted is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
        else:
            try:
                with job_slot("loading a model"), st.spinner("Loading the model…"):
                    model = sc.from_bytes(upload.getvalue(), max_params=limits().max_params)
            except (sc.InvalidInput, TrainingCapReached) as err:  # ModelFileError and friends
                error = str(err)
            except Exception:  # noqa: BLE001 - never let a file crash the page
                error = sc.persistence.UNREADABLE
            else:
                current.set_model(model, source=upload.name)
        handled = (upload.file_id, error)
        st.session_state[handled_key] = handled
        if not error:
            st.rerun()  # redraw the page with the new model
    if handled[1]:
        st.error(f"Could not load {md(upload.name)}: {md(handled[1])} Nothing was changed.")
    else:
        st.success(f"Loaded {md(upload.name)}: it is now the model on the Inspect page.")


def continue_ui(choice: form.Choice, model: sc.Seq2Seq | None) -> None:
    if model is None:
        return
    why = incompatibility(model, choice.task)
    if not why and choice.train_config is None:
        why = "Fix the training settings first."
    active = training.is_active()
    clicked = st.button("Continue training this model", icon=":material/fast_forward:",
                        disabled=bool(why) or active, key="btn_continue",
                        help="Keeps the model's weights and trains on with the Training "
                             "settings above (batch size, learning rate, budget). The "
                             "Network settings are not used.")
    if why and not active:
        st.info(f"To continue training the current model: {why}", icon=":material/info:")
        st.button("Use this model's task and network settings", key="btn_use_model_settings",
                  on_click=use_model_settings, args=(model,))
    if clicked and not why:
        message = training.start(choice, model=model,  # trains a copy: Inspect keeps this one
                                 label=f"{model.task.title} · "
                                       f"{describe_model(model.config)} · continued")
        if message:
            st.error(md(message))
        else:
            st.rerun()


def models_section(choice: form.Choice) -> None:
    """Save the session's model, upload one, continue training it."""
    model = current.model()
    busy = training.is_active()
    with st.container(border=True):
        st.subheader("Model file")
        source = current.source()
        if model is not None:
            trained = training.published_model() is model
            what = (shelf.where_from(source) if source else "trained in this tab"
                    if trained or current.run_id() is None
                    else f"run #{current.run_id()} from the history")
            st.markdown(f"**Current model** ({what}): {model.task.title} · "
                        f"{describe_model(model.config)} · "
                        f"{model.count_params():,} parameters")
        if busy:
            st.caption("Saving and loading wait until the training ends.")
            return
        save_ui(model)
        upload_ui()
        continue_ui(choice, current.model())
