"""The Train page's views: the model summary, the script export, the controls, the live run."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seq2seq_core import executors, export
from seq2seq_core.budget import Cost
from seq2seq_core.charts.training import live_specs, live_table
from seq2seq_core.config import COMPILER_NAMES
from seq2seq_core.explain import describe_model
from seq2seq_core.status import Status
from seq2seq_core.verdict import corpus_time_note, end_of_run, overfitting

from . import training
from .cache import remembered
from .form import Choice
from .polling import POLL_SECONDS
from .text import md



# ---- settings column -----------------------------------------------------------------------
def summary_section(choice: Choice, cost: Cost) -> None:
    """The network's layers, built only when asked for."""
    with st.expander(f"Model summary — {cost.params:,} parameters, about "
                     f"{cost.peak_bytes / 1e6:,.0f} MB to train"):
        if not st.toggle("List the layers (builds the network)", key="train_show_layers"):
            return
        try:
            draft = training.draft_model(choice)
        except Exception as err:  # noqa: BLE001 - shown, never raised
            st.error(f"This network cannot be built: {md(err)}")
            return
        st.dataframe(pd.DataFrame(draft.summary()), hide_index=True, width="stretch")


def export_section(choice: Choice) -> None:
    """The setup as a standalone Keras script to read, download and run."""
    with st.expander("Export as a Python script"):
        try:
            script = export.export_script(choice.task.name, choice.task.settings,
                                          choice.model_config, choice.train_config)
        except Exception as err:  # noqa: BLE001 - shown, never raised
            st.error(f"This setup cannot be exported: {md(err)}")
            return
        name = export.script_filename(choice.task.name)
        st.caption(f"A standalone script (Keras and numpy only, no seq2seq-lab) that builds "
                   f"the same network and trains it: `python {name}`.")
        b1, b2 = st.columns(2)
        b1.download_button("Download the script", script, file_name=name, mime="text/x-python",
                           icon=":material/download:", key="btn_export_script", width="stretch")
        if choice.task.name == "translation":
            b2.download_button(f"Download the sentence pairs ({export.PAIRS_FILE})",
                               export.pairs_tsv(choice.task), file_name=export.PAIRS_FILE,
                               mime="text/tab-separated-values", icon=":material/download:",
                               key="btn_export_pairs", width="stretch")
        st.code(script, language="python", line_numbers=True)


# ---- controls ------------------------------------------------------------------------------
def controls(choice: Choice, cost: Cost | None) -> None:
    """The next run's line and the Start, Pause/Resume and Stop buttons."""
    trainer = training.trainer()
    status = trainer.status if trainer is not None else Status.READY
    active = status.active
    if cost is not None:
        st.markdown(f"**Next run:** {choice.task.title} · "
                    f"{describe_model(choice.model_config)} · **{cost.params:,} parameters**")
    c1, c2, c3, c4 = st.columns(4)
    start_clicked = c1.button("Start", icon=":material/play_arrow:", type="primary",
                              disabled=active or cost is None, width="stretch", key="btn_start")
    if status == Status.PAUSED:
        c2.button("Resume", icon=":material/resume:", on_click=training.resume,
                  width="stretch", key="btn_resume")
    else:
        c2.button("Pause", icon=":material/pause:", on_click=training.pause,
                  disabled=status != Status.RUNNING, width="stretch", key="btn_pause")
    c3.button("Stop", icon=":material/stop:", on_click=training.stop, disabled=not active,
              width="stretch", key="btn_stop")
    if start_clicked and cost is not None:
        message = training.start(choice)
        if message:
            st.error(md(message))
        else:
            st.rerun()  # redraw the buttons for a running training
    elif cost is None and not active:
        st.warning("Fix the settings marked in red to start training.")


# ---- the live run ----------------------------------------------------------------------------
def _fmt_seconds(seconds) -> str:
    """'42 s' or '3:05 min'; '—' when unknown."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d} min" if seconds >= 60 else f"{seconds} s"


def chart_specs(t, history) -> tuple[dict, dict]:
    """The curves as Vega-Lite specs, rebuilt only when a chunk was added."""
    return remembered("_chart_specs", (t, len(history)), lambda: live_specs(history))


def verdict_view(t, snap, latest) -> None:
    """What the finished run's numbers say, with a next step."""
    verdict = end_of_run(latest.exact_match, latest.val_token_accuracy,
                         memorised=getattr(t.task, "evaluates_on_training_pairs", False))
    getattr(st, verdict.level)(verdict.text)
    task = t.task
    if verdict.level != "success" and not task.generated and snap.train_seconds:
        if note := corpus_time_note(len(task.split_pairs("train")),
                                    snap.samples_seen / snap.train_seconds, snap.samples_seen):
            st.caption(note)
    st.page_link("app_pages/inspect.py", label="Inspect this model", icon=":material/search:")


def step_words(asked: str, history) -> str:
    """Which compiled step trains the run, and why when it is not the one asked for."""
    now, tried = history[-1].compiler, any(r.compiler == "xla" for r in history)
    why = ""
    if asked == "xla" and now == "graph":
        why = ": XLA could not compile this network"
    elif asked == "auto" and now == "xla":
        why = ": tried on this long run and measured faster"
    elif asked == "auto" and tried:
        why = ": XLA was tried on this long run and was not faster"
    return (f"Training step: {COMPILER_NAMES[now]}{why} (*Compiled step*, under More training "
            "settings)")


def status_text(snap, replayed: int | None) -> str:
    """The progress bar's line: state, samples, speed, and time left or why it ended."""
    rate = snap.samples_seen / snap.train_seconds if snap.train_seconds else 0.0
    label = {Status.RUNNING: "Training", Status.PAUSED: "Paused", Status.FINISHED: "Finished",
             Status.STOPPED: "Stopped", Status.FAILED: "Failed",
             Status.READY: "Starting"}[snap.status]
    text = f"{label} · {snap.samples_seen:,} samples · {rate:,.0f} samples/s"
    if replayed is not None:
        return (f"Finished in {_fmt_seconds(snap.train_seconds)} · replaying at lecture pace: "
                f"chunk {replayed} of {len(snap.history)}")
    if snap.status.active:
        text += f" · about {_fmt_seconds(snap.seconds_left)} left"
    elif snap.reason:
        text += f" · {snap.reason}"
    return text


def live_view(mode: str | None) -> None:
    """The run's progress, curves and predictions. `mode` says why it reruns itself:
    "training" while the run trains, "replay" while a fast run is replayed, None: it doesn't."""
    t = training.trainer()
    if t is None:
        st.info("Press **Start** to train. Curves and live predictions appear here.")
        return
    snap = t.snapshot()
    replayed = training.replay_shown(t)
    ended = snap.status != Status.RUNNING and not t.is_alive  # the thread also keeps the model
    if (mode == "training" and ended) or (mode == "replay" and replayed is None):
        training.publish_if_done()
        st.rerun()  # a full rerun switches polling and updates the buttons
    st.markdown(f"**This run:** {md(st.session_state.get('run_label', ''))}")
    st.caption(f"Trains in {executors.LABELS[t.executor]}"
               + (f" · {md(snap.device)}" if snap.device else
                  " · waiting for a free worker" if snap.status.active else ""))
    history = snap.history if replayed is None else snap.history[:replayed]
    latest = history[-1] if history else None
    if latest is not None and latest.compiler:
        st.caption(step_words(t.train_config.compiler, history))
    progress = snap.progress if replayed is None else replayed / len(snap.history)
    # A new element per run: the bar never animates from the last run's fill.
    with st.container(key=f"progress_{id(t)}"):
        st.progress(min(1.0, max(0.0, progress)), text=status_text(snap, replayed))
    if replayed is not None:
        st.button("Skip the replay", key="btn_skip_replay", on_click=training.skip_replay,
                  icon=":material/skip_next:")
    if snap.status == Status.FAILED:
        st.error(f"Training failed: {md(snap.error)}")
    if note := training.recorder_note():
        st.warning(md(note), icon=":material/history:")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Exact match", f"{latest.exact_match:.1%}" if latest else "—",
              help=f"Of the {latest.scored:,} held-out examples scored after the latest "
                   "chunk (a share in proportion to the chunk while it trains; all of them "
                   "near the target and after the run's last chunk)." if latest and latest.scored
              else None)
    m2.metric("Token accuracy", f"{latest.val_token_accuracy:.1%}" if latest else "—")
    m3.metric("Validation loss", f"{latest.val_loss:.4f}" if latest else "—")
    m4.metric("Training time", _fmt_seconds(latest.train_seconds) if latest else "—")
    if not history:
        st.caption("Compiling the network and training the first chunk…")
        return
    if not t.task.generated and (note := overfitting(history)):
        st.warning(note, icon=":material/trending_up:")
    loss_spec, accuracy_spec = chart_specs(t, history)
    st.vega_lite_chart(loss_spec, width="stretch", key="chart_loss")
    st.vega_lite_chart(accuracy_spec, width="stretch", key="chart_accuracy")
    if snap.live and replayed is None:
        on_train = getattr(t.task, "evaluates_on_training_pairs", False)
        st.markdown("**Live predictions** on " + ("training pairs (nothing is held out, so "
                                                   "this shows memorisation)" if on_train
                                                   else "held-out examples"))
        # a static table: redrawn every poll, it costs the browser far less than a data grid
        st.table(live_table(snap.live).map(md), hide_index=True, border="horizontal")
    if snap.status.keeps_model and replayed is None:
        if t.is_alive:
            st.caption("Keeping the trained model in the run history…")
        else:
            verdict_view(t, snap, latest)


def live_panel() -> None:
    """The live view, rerunning itself every POLL_SECONDS while a run trains or is replayed."""
    t = training.trainer()
    mode = ("training" if t is not None and (t.status == Status.RUNNING or t.is_alive) else
            "replay" if training.replay_shown(t) is not None else None)
    st.fragment(live_view, run_every=POLL_SECONDS if mode else None)(mode)
