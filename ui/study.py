"""The Why attention? page's study in session state, its settings form and its views.

The study runs in the background (a `JobRunner` kept in `st.session_state`); a fragment polls
it only while it runs. The finished results table stays in session state, so it survives
reruns and page switches. Every key kept in session state starts with "study_".
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core import executors
from seq2seq_core.budget import check_runs
from seq2seq_core.charts.study import exact_match_chart, generalization_chart
from seq2seq_core.settings import spec
from seq2seq_core.status import Status
from seq2seq_core.study import (
    COMPARISONS,
    DEFAULT_SPANS,
    GENERALIZATION,
    LENGTH_UNITS,
    STUDY_KINDS,
    TRAINED_FORMATS,
    UNSEEN_FORMATS,
    GeneralizationConfig,
    StudyConfig,
    generalization_verdict,
    load_study,
    model_count,
    parse_lengths,
    results_frame,
    saved_studies,
    span_words,
    study_name,
    study_runner,
    verdict,
)
from seq2seq_core.sweep import when
from seq2seq_core.vocab import plural

from . import identity, widgets
from .executor import allowed_workers, at_once, for_runs, longest_seconds
from .form import setting_input
from .history import get_history
from .session import limits, start_job
from .text import duration, md

RUNNER, RESULTS, CONFIG, SAVED = "study_runner", "study_results", "study_config", "study_saved"
DEFAULT_LENGTHS = {"reverse": "8, 16, 24", "translation": "8, 12, 16, 22"}
DEFAULTS = {"study_task": "reverse", "study_comparison": "attention",
            "study_lengths": DEFAULT_LENGTHS["reverse"], "study_units": 64, "study_seconds": 30.0,
            "study_workers": executors.default_workers(), "study_kind": StudyConfig.kind,
            "study_gen_task": "reverse", "study_trained": DEFAULT_SPANS["reverse"][0],
            "study_longer": DEFAULT_SPANS["reverse"][1], "study_formats": list(TRAINED_FORMATS),
            "study_unseen": list(UNSEEN_FORMATS)}
X_TITLES = {"reverse": "input length (integers)",
            "translation": "source length (characters, up to)"}
GENERALIZATION_X_TITLES = {"reverse": "input length (integers)", "addition": "terms in the sum",
                           "dates": "date format"}

EXPLANATION = """
**Why attention?** A plain encoder-decoder must squeeze the whole input into one
fixed-size vector, the encoder's final state, before the decoder writes a single token.
Short inputs fit; long ones do not, and exact match falls as the input grows.
*Bahdanau, Cho & Bengio (2015)* called this the fixed-length bottleneck and let the decoder
look back at **all** the encoder's states at every step (attention), so the input no longer
has to fit in one vector: their translations stayed good on long sentences.

**Why reverse the source?** *Sutskever, Vinyals & Le (2014)* found that simply feeding the
source sentence backwards helped their LSTM: the first words of the input end up next to the
first words of the output, so the network sees short-range links it can learn from early on.
Attention removes most of the need for this trick.
"""

GENERALIZATION_EXPLANATION = """
**Train short, test long.** Both models see only inputs up to the longest trained length
(the shaded part of the chart), then are tested on longer ones they never saw, right of the
dashed line. A plain encoder-decoder packs the whole input into its fixed-size final state,
and its decoder learns how many tokens to write from the lengths it saw: past them it tends
to stop too early or lose its place, so exact match falls away within a few lengths of the
trained ones. This is the classic curve of sequence-to-sequence models
(*Cho et al. 2014*; *Lake & Baroni 2018*).

**What attention changes**: the decoder looks back at every input position at each step
instead of relying on one summary, so nothing has to fit in one vector. Whether that carries
it past the trained lengths is what the chart shows; it too only ever learned the positions
and output lengths it trained on.

**Dates**: the unseen formats ask the same question with new layouts instead of new
lengths: the shaded formats are trained on, the others are only tested.
"""
RESULT_NOTES = {
    StudyConfig.kind: "",
    GENERALIZATION: "Shaded: what both models trained on. The dashed line marks the first "
                    "length (or format) they never saw. Each point scores fresh examples of "
                    "exactly that length (or format), the same ones for both models.",
}


# ---- widgets that survive a page switch ---------------------------------------------------------
def task_changed() -> None:
    st.session_state["study_lengths"] = DEFAULT_LENGTHS[st.session_state["study_task"]]


def generalization_task_changed() -> None:
    """A length task starts from its own trained and longer lengths (reverse 8 + 4, addition
    3 + 3 terms)."""
    task = st.session_state["study_gen_task"]
    if task in DEFAULT_SPANS:
        st.session_state["study_trained"], st.session_state["study_longer"] = DEFAULT_SPANS[task]


# ---- the study --------------------------------------------------------------------------------
def open_history():
    """The run history the study records into, or (None, why not)."""
    try:
        return get_history(), ""
    except Exception as err:  # noqa: BLE001 - the study still runs without a history
        return None, f"The run history is not available ({err}), so these runs are not recorded."


def runner():
    return st.session_state.get(RUNNER)


def is_running() -> bool:
    r = runner()
    return r is not None and not r.status.ended


def start(cfg, workers: int = 1) -> str:
    """Start the study in the background, `workers` models at a time (on Ray when more than
    one); returns an error message or ''."""
    if is_running():
        return "A study is already running in this tab: stop it first."
    runs = cfg.runs()
    try:
        check_runs(runs, cfg.train_config(), limits())
    except sc.InvalidInput as err:
        return str(err)
    history, note = open_history()
    workers = allowed_workers(workers, len(runs))
    where, why = for_runs(workers, "study")
    if where is None:
        return why
    job = study_runner(cfg, history, identity.owner_id(), executor=where, workers=workers)
    message = start_job(job, "a study (Why attention? page)", pool=where.name)
    if message:
        return message
    st.session_state[RUNNER] = job
    st.session_state[CONFIG] = cfg
    st.session_state["study_history_note"] = note
    st.session_state.pop(RESULTS, None)
    return ""


def stop() -> None:
    if (r := runner()) is not None:
        r.stop()


def collect_if_done() -> None:
    """Move a finished study's rows into the results kept in session state."""
    r = runner()
    if r is None or not r.status.ended:
        return
    snap = r.snapshot()
    cfg = st.session_state.get(CONFIG)
    st.session_state[RESULTS] = {"frame": results_frame(snap.rows, cfg), "config": cfg,
                                 "status": snap.status,
                                 "error": snap.error, "done": r.finished_models,
                                 "total": snap.total, "cut_short": r.cut_short,
                                 "failed": r.failed}
    st.session_state[RUNNER] = None


def earlier_studies() -> None:
    """Finished studies saved in the run history (they survive a restart): show one again."""
    history, _ = open_history()
    if history is None:
        return
    saved = saved_studies(history)
    if saved.empty:
        return
    with st.expander(f"Earlier studies ({len(saved)})"):
        labels = {int(r["id"]): saved_label(r["tag"], r["config"], r["created"])
                  for _, r in saved.iterrows()}
        chosen = st.selectbox("A study saved in the run history", list(labels),
                              format_func=labels.get, key="study_saved_pick")
        if st.button("Show", key="study_show_saved",
                       disabled=is_running()):
            try:
                cfg, frame = load_study(history, int(chosen))
            except Exception as err:  # noqa: BLE001 - a damaged entry: say so, keep the page
                st.error(f"Could not load that study: {md(err)}")
                return
            st.session_state[RESULTS] = {"frame": frame, "config": cfg, "status": Status.FINISHED,
                                         "error": "", "done": 0, "total": 0, "cut_short": ()}
            st.rerun()


def saved_label(tag: str, config: dict, created) -> str:
    """ "1 Dec 09:08 · Reverse integers, lengths 8, 16, 24: no attention vs attention · 64 units, 30 s",
    rebuilt from the config so that older entries read the same."""
    try:
        parts = [study_name(config)]
    except (AttributeError, TypeError):
        parts = [str(tag)]
    if stamp := when(created):
        parts.insert(0, stamp)
    units, seconds = config.get("units"), config.get("max_seconds")
    if isinstance(units, int) and isinstance(seconds, (int, float)):
        parts.append(f"{plural(units, 'unit')}, {seconds:g} s")
    return " · ".join(parts)


def variants_of(cfg) -> list[str]:
    return [name for name, _ in COMPARISONS[cfg.comparison]]


def results_caption(cfg) -> str:
    """ "Reverse integers · without vs with attention · 64 units · up to 30 s per model ·
    lengths 8, 16, 24" (or "· trained on lengths 1-8, tested to 12")."""
    compared = spec(StudyConfig, "comparison").name_of(cfg.comparison)
    per = f"{compared} · {plural(cfg.units, 'unit')} · up to {cfg.max_seconds:.0f} s per model"
    if cfg.kind == GENERALIZATION:
        span = span_words(cfg.task, cfg.trained, cfg.longer, cfg.formats, cfg.unseen)
        return f"{spec(GeneralizationConfig, 'task').name_of(cfg.task)} · {per} · {span}"
    return (f"{spec(StudyConfig, 'task').name_of(cfg.task)} · {per} · lengths "
            f"{', '.join(map(str, cfg.lengths))}")


def summary(frame: pd.DataFrame, cfg) -> str:
    """One sentence comparing the two variants at the longest length both reached (for
    length generalization: at the edge of the trained lengths), as markdown."""
    if cfg.kind == GENERALIZATION:
        return md(generalization_verdict(frame, cfg))
    baseline, improved = variants_of(cfg)
    table = frame.pivot_table(index="length", columns="variant", values="exact_match")
    if baseline not in table or improved not in table:
        return ""
    both = table.dropna(subset=[baseline, improved])
    if both.empty:
        return ""
    length = int(both.index.max())
    a, b = both.loc[length, baseline], both.loc[length, improved]
    unit = "integers" if cfg.task == "reverse" else "characters or fewer"
    return (f"At {length} {unit}: **{improved}** {b:.0%} exact match vs **{baseline}** "
            f"{a:.0%}: {verdict(baseline, improved, a, b)}.")


def stopped_message(results: dict) -> str:
    """ "Stopped: 3 of 8 models finished. The model cut short (…) is left out." """
    done, total = results["done"], results["total"]
    text = f"Stopped: {done} of {plural(total, 'model')} finished"
    text += (": the chart shows only those." if done else ".")
    cut = results.get("cut_short") or ()
    if len(cut) == 1:
        text += f" The model cut short ({md(cut[0])}) is left out."
    elif cut:
        text += f" The models cut short ({md('; '.join(cut))}) are left out."
    return text


def chart_of(frame: pd.DataFrame, cfg):
    """The study's chart: exact match by length, or by every length (format) tested."""
    if cfg.kind == GENERALIZATION:
        return generalization_chart(frame, variants_of(cfg), cfg.x_column, cfg.points,
                                    cfg.trained_points, GENERALIZATION_X_TITLES[cfg.task])
    return exact_match_chart(frame, variants_of(cfg), X_TITLES[cfg.task])


def draw_results(frame: pd.DataFrame, cfg, key: str) -> None:
    st.altair_chart(chart_of(frame, cfg), width="stretch", key=f"study_chart_{key}")
    if note := RESULT_NOTES[cfg.kind]:
        st.caption(note)
    st.dataframe(frame, hide_index=True, width="stretch", key=f"study_table_{key}",
                 column_config={
                     "variant": st.column_config.TextColumn("variant"),
                     "length": st.column_config.NumberColumn(
                         "length", help="Input length (reverse; terms for addition) or the "
                                        "upper edge of the source-length bucket "
                                        "(translation)."),
                     "format": st.column_config.TextColumn("format"),
                     "trained": st.column_config.CheckboxColumn(
                         "trained on", help="Whether training drew this length (or format)."),
                     "exact_match": st.column_config.NumberColumn("exact match",
                                                                  format="percent"),
                     "samples": st.column_config.NumberColumn("examples scored"),
                     "train_seconds": st.column_config.NumberColumn("training time (s)",
                                                                    format="%.1f"),
                 })


def progress_view(polling: bool) -> None:
    """The running study's progress and the results so far; reruns itself while it runs."""
    r = runner()
    if r is None:
        return
    snap = r.snapshot()
    if polling and snap.status.ended:
        st.rerun()  # a full rerun keeps the results and updates the buttons
    cfg = st.session_state.get(CONFIG)
    if snap.status.ended:
        return
    current = f"training {snap.current}" if snap.current else "starting"
    if r.stopping:
        current = ("stopping: the models in training are cut short and left out"
                   if len(snap.running) > 1 else
                   "stopping: the model in training is cut short and left out")
    st.progress(snap.fraction, text=f"{snap.done} of {snap.total} models done · {current}")
    if snap.rows and cfg is not None:
        st.caption("Results so far (the chart fills in as each model finishes):")
        draw_results(results_frame(snap.rows, cfg), cfg, "live")


def _length_fields(running: bool):
    """The per-length study's own widgets; returns how to build its config from the shared
    settings (units, seconds)."""
    s = StudyConfig
    c1, c2 = st.columns(2)
    task = setting_input(c1, s, "task", key="study_task", radio=True, on_change=task_changed,
                         disabled=running)
    comparison = setting_input(c2, s, "comparison", key="study_comparison", radio=True,
                               disabled=running)
    lengths_help = ("One model per length and variant, trained on inputs of exactly "
                    "that many integers." if task == "reverse" else
                    "One model per variant, trained on the whole phrasebook; its pairs "
                    "are then scored in buckets of source length up to each number.")
    lengths_text = st.text_input(spec(s, "lengths").label, key="study_lengths",
                                 disabled=running,
                                 help=f"{lengths_help} {spec(s, 'lengths').help}")
    return lambda **shared: StudyConfig(task=task, comparison=comparison,
                                        lengths=parse_lengths(lengths_text), **shared)


def _generalization_fields(running: bool):
    """Length generalization's own widgets: the task, and the lengths (or formats) trained
    and tested; returns how to build its config from the shared settings."""
    g = GeneralizationConfig
    task = setting_input(st, g, "task", key="study_gen_task", radio=True, horizontal=True,
                         on_change=generalization_task_changed, disabled=running)
    if task == "dates":  # full width: a format's name is long
        formats = setting_input(st, g, "formats", key="study_formats", disabled=running)
        unseen = setting_input(st, g, "unseen", key="study_unseen", disabled=running)
        return lambda **shared: g(task=task, formats=tuple(formats), unseen=tuple(unseen),
                                  **shared)
    c1, c2 = st.columns(2)
    unit = LENGTH_UNITS[task]
    trained = setting_input(c1, g, "trained", key="study_trained", disabled=running,
                            label=f"{spec(g, 'trained').label} ({unit})")
    longer = setting_input(c2, g, "longer", key="study_longer", disabled=running,
                           label=f"{spec(g, 'longer').label} ({unit})")
    return lambda **shared: g(task=task, trained=int(trained), longer=int(longer), **shared)


def settings_form(running: bool) -> None:
    """The study's settings, its cost and the Start / Stop buttons, beside the explanation."""
    s = StudyConfig
    settings, about = st.columns([3, 2], gap="large")
    with settings:
        kind = st.radio("Study", list(STUDY_KINDS), format_func=STUDY_KINDS.get,
                        key="study_kind", horizontal=True, disabled=running,
                        help="One model per length: each model trains and is scored on one "
                             "input length. Train short, test long: two models train on "
                             "short inputs and are scored on longer ones too.")
    with about:
        st.markdown(GENERALIZATION_EXPLANATION if kind == GENERALIZATION else EXPLANATION)
    with settings:
        with st.container(border=True):
            fields = (_generalization_fields if kind == GENERALIZATION else
                      _length_fields)(running)
            c3, c4, c5 = st.columns(3)
            units = setting_input(c3, s, "units", key="study_units", disabled=running)
            seconds = setting_input(c4, s, "max_seconds", key="study_seconds", disabled=running)
            workers = setting_input(c5, executors.Placement, "workers", key="study_workers",
                                    disabled=running)
        cfg, error = None, ""
        try:
            cfg = fields(units=int(units), max_seconds=float(seconds))
        except sc.InvalidInput as err:
            error = str(err)
        if error:
            st.error(md(error))
        elif not running:
            n_models = model_count(cfg)
            together, where = at_once(int(workers), n_models)
            longest = longest_seconds(n_models, together, cfg.max_seconds)
            st.caption(f"{plural(n_models, 'model')}, {together} at a time, × up to "
                       f"{cfg.max_seconds:.0f} s ≈ {duration(longest)} "
                       "of training, plus a few seconds each to build and score"
                       + (" (and to start Ray the first time). " if together > 1 else ". ")
                       + where)
        buttons = st.container(horizontal=True)
        start_clicked = buttons.button("Start", icon=":material/play_arrow:", type="primary",
                                       disabled=running or cfg is None, key="study_start")
        buttons.button("Stop", icon=":material/stop:", on_click=stop, disabled=not running,
                       key="study_stop")
        if start_clicked and cfg is not None:
            message = start(cfg, int(workers))
            widgets.save(SAVED, DEFAULTS)
            if message:
                st.error(md(message))
            else:
                st.rerun()  # redraw the buttons and widgets for a running study
