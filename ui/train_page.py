"""The Train page's views: the model summary, the script export, the controls, the live run."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seq2seq_core import executors, export
from seq2seq_core.budget import Cost
from seq2seq_core.charts.progress import (learned_last, position_heatmap, watched_table,
                                          with_previous)
from seq2seq_core.charts.training import live_specs, live_table
from seq2seq_core.config import COMPILER_NAMES
from seq2seq_core.errors import InvalidInput
from seq2seq_core.mt_metrics import BLEU_HELP, CHRF_HELP
from seq2seq_core.explain import describe_model
from seq2seq_core.status import Status
from seq2seq_core.training import MAX_WATCHED
from seq2seq_core.verdict import corpus_time_note, end_of_run, overfitting

from . import cell, shelf, training
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
        except InvalidInput as err:  # a setup the script does not cover: said, not an error
            st.info(md(err), icon=":material/info:")
            return
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
    c4.button("Step", icon=":material/step_over:", on_click=training.step_batch,
              disabled=status != Status.PAUSED, width="stretch", key="btn_step",
              help="Step one batch: while paused, train exactly one more batch, then score "
                   "it and redraw everything (TensorFlow Playground's step).")
    if message := st.session_state.pop(training.START_ERROR, ""):
        st.error(md(message))
    if start_clicked and cost is not None:
        message = training.start(choice)
        if message:
            st.error(md(message))
        else:
            st.rerun()  # redraw the buttons for a running training
    elif cost is None and not active:
        st.warning("Fix the settings marked in red to start training.")


def watch_section(choice: Choice) -> None:
    """The inputs the class watches: typed before or during a run, decoded after every
    chunk."""
    state = st.session_state
    t = training.trainer()
    task = t.task if t is not None and t.status.active else choice.task
    examples = task.example_inputs()[:2] if task is not None else []
    with st.expander("Watch your own inputs", icon=":material/visibility:",
                     expanded=bool(state.get(training.WATCHED))):
        st.text_area(f"Up to {MAX_WATCHED} inputs, one per line", key=training.WATCH_BOX,
                     on_change=training.watch_changed, args=(choice.task,), height=110,
                     max_chars=MAX_WATCHED * 120, placeholder="\n".join(examples),
                     help="After every chunk the model decodes these again, and a table under "
                          "the curves fills in, chunk by chunk: the class sees its own "
                          "examples converge. You can change them while it trains.")
        if error := state.get(training.WATCH_ERROR):
            st.error(md(error))
        elif watched := state.get(training.WATCHED):
            st.caption("Watching: " + " · ".join(f"**{md(w)}**" for w in watched))
        if (dropped := state.get(training.WATCH_DROPPED)) and t is not None:
            st.warning(f"Not watched in this run, as its task does not take them: {md(dropped)}",
                       icon=":material/visibility_off:")


# ---- the live run ----------------------------------------------------------------------------
def _fmt_seconds(seconds) -> str:
    """'42 s' or '3:05 min'; '—' when unknown."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d} min" if seconds >= 60 else f"{seconds} s"


def chart_specs(t, history) -> tuple[dict, dict]:
    """The curves as Vega-Lite specs, rebuilt only when a chunk was added; a run started
    with "Run again" has the run it repeats drawn under it."""
    specs = remembered("_chart_specs", (t, len(history)), lambda: live_specs(history))
    previous = training.previous_run()
    if previous is None:
        return specs
    before = remembered("_previous_specs", (previous[0],),
                        lambda: live_specs(previous[0].snapshot().history))
    return with_previous(specs[0], before[0]), with_previous(specs[1], before[1])


def same_curves(history, earlier) -> str:
    """Whether a repeated run's curves equal the run it repeats, in a sentence."""
    def points(h):  # NaN as None, so a NaN loss compares equal to itself
        return [tuple(None if x != x else x for x in (r.samples_seen, r.val_loss,
                                                       r.exact_match, *r.batch_losses))
                for r in h]
    now, then = points(history), points(earlier)
    differs = next((i for i, (a, b) in enumerate(zip(now, then)) if a != b), None)
    if differs is None and len(now) == len(then):
        return ("Same seed, same settings: this run's curves equal the previous run's, "
                "chunk for chunk.")
    if differs is None:
        return (f"The curves agree for the {min(len(now), len(then))} chunks both runs "
                "trained; one of them trained longer (a time budget ran out at a different "
                "point on this busy machine).")
    return (f"The curves part from chunk {differs + 1} on. The same seed draws the same "
            "weights and examples, so a chunk ended elsewhere (a pause or a *Step* "
            "ends a chunk early, and so does a time budget on a busy machine) or the "
            "arithmetic differed (an automatic *Compiled step* that switched to XLA).")


def position_spec(t, history) -> dict:
    """The error-by-position heatmap as a Vega-Lite spec, rebuilt only when a chunk was
    added (building altair charts on every poll would slow the training beside it)."""
    return remembered("_position_spec", (t, len(history)),
                      lambda: position_heatmap(history, t.task.unit).to_dict())


def progress_views(t, history) -> None:
    """The watched inputs' outputs chunk by chunk, and the error at each output position."""
    if any(r.watched for r in history):
        st.markdown("**Watched inputs**, decoded again after every chunk")
        st.table(watched_table(history, t.task.answer).map(md), hide_index=True,
                 border="horizontal")
    if t.task.target_len > 1 and sum(bool(r.position_accuracy) for r in history) >= 2:
        st.markdown("**Which output position is learned last?**")
        st.vega_lite_chart(position_spec(t, history), width="stretch", key="chart_positions")
        st.caption(f"Each column is one chunk of training, each row one {t.task.unit} of the "
                   "output: the darker, the more held-out outputs get that position wrong. "
                   + learned_last(history, t.task.unit))


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
    if (previous := training.previous_run()) is not None:
        st.caption(same_curves(snap.history, previous[0].snapshot().history))
    link, again = st.columns(2, vertical_alignment="center")
    link.page_link("app_pages/inspect.py", label="Inspect this model", icon=":material/search:")
    again.button("Run again with the same seed", icon=":material/replay:", key="btn_again",
                 on_click=training.run_again, disabled=not training.can_run_again(),
                 help=(f"Train the same network with the same settings and seed "
                       f"({t.train_config.seed}) again; this run's curves stay on the charts, "
                       "dashed grey, under the new ones.") if not training.continued() else
                 "This run continued an earlier model, which a new run would not start from: "
                 "Run again repeats runs that trained a new network.")
    shelf.save_button(training.published_model(), latest.exact_match, snap.samples_seen,
                      t.train_config, "train")


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
    text = latest is not None and latest.chrf is not None
    m1, *text_col, m2, m3, m4 = st.columns(5 if text else 4)
    if text:
        text_col[0].metric("chrF", f"{latest.chrf:.1f}",
                           help=f"On held-out pairs. {CHRF_HELP}  \n{BLEU_HELP} Here: "
                                f"{latest.bleu:.1f}.")
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
    if (previous := training.previous_run()) is not None:
        st.caption(f"Dashed grey: the previous run ({md(previous[1])}), with the same "
                   f"settings and seed ({t.train_config.seed}).")
    if snap.live and replayed is None:
        on_train = getattr(t.task, "evaluates_on_training_pairs", False)
        st.markdown("**Live predictions** on " + ("training pairs (nothing is held out, so "
                                                   "this shows memorisation)" if on_train
                                                   else "held-out examples"))
        # a static table: redrawn every poll, it costs the browser far less than a data grid
        st.table(live_table(snap.live).map(md), hide_index=True, border="horizontal")
    progress_views(t, history)
    if replayed is None:
        cell.training_view(t, history, snap.cells)
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
