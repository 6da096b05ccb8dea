"""The Sweep page's views: the grid and budget form, the live progress and the results."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core import executors
from seq2seq_core.charts.experiments import sweep_heatmap
from seq2seq_core.config import ARCH_SHORT
from seq2seq_core.settings import parse_numbers, spec
from seq2seq_core.sweep import AXES, MAX_VALUES, TRAINED, SweepConfig
from seq2seq_core.vocab import plural

from . import sweep as sw
from .executor import at_once
from .form import field_value, setting_input, task_label
from .text import md

SHOWN_CELLS = 3  # cells training at once that the progress line names one by one
DEFAULTS = {"sweep_task": "addition", "sweep_key": "n_terms", "sweep_values": "2, 3, 4",
            "sweep_units": "25, 50, 100", "sweep_arch": "repeat", "sweep_cell": "lstm",
            "sweep_batch": 128, "sweep_lr": 0.01, "sweep_samples": 300_000,
            "sweep_seconds": 30.0, "sweep_target": 0.99,
            "sweep_workers": executors.default_workers()}
SAVED = "sweep_saved"


def examples(task: str, key: str) -> str:
    """The values the page proposes for an axis, as typed: "2, 3, 4"."""
    return ", ".join(map(str, AXES[task][key].examples))


def on_task() -> None:
    task = st.session_state["sweep_task"]
    key = next(iter(AXES[task]))
    st.session_state["sweep_key"] = key
    st.session_state["sweep_values"] = examples(task, key)
    st.session_state["sweep_arch"] = "repeat" if task == "addition" else "teacher"


def on_key() -> None:
    s = st.session_state
    s["sweep_values"] = examples(s["sweep_task"], s["sweep_key"])


def build_config() -> SweepConfig:
    s = st.session_state
    task = s["sweep_task"]
    units = parse_numbers(s["sweep_units"], "units values", "25, 50, 100")
    arch = s["sweep_arch"]
    base_units = units[0] if units else 75
    decoder = max(1, round(base_units * 50 / 75)) if arch == "repeat" else None
    model = sc.ModelConfig(arch=arch, cell=s["sweep_cell"], units=base_units,
                           decoder_units=decoder)
    t = sc.TrainConfig
    train = t(**{name: field_value(t, name, s[key]) for name, key in (
        ("batch_size", "sweep_batch"), ("learning_rate", "sweep_lr"),
        ("max_samples", "sweep_samples"), ("max_seconds", "sweep_seconds"),
        ("target_accuracy", "sweep_target"))})
    return SweepConfig(task=task, complexity_key=s["sweep_key"],
                       complexity_values=parse_numbers(s["sweep_values"], "complexity values",
                                                       examples(task, s["sweep_key"])),
                       units_values=units, model_config=model, train_config=train)


def settings_form(running: bool) -> tuple[SweepConfig | None, str]:
    with st.container(border=True):
        st.subheader("Grid")
        c1, c2 = st.columns(2)
        c1.radio("Task", list(AXES), format_func=task_label, key="sweep_task",
                 on_change=on_task, disabled=running, horizontal=True)
        axes = AXES[st.session_state["sweep_task"]]
        if st.session_state["sweep_key"] not in axes:
            st.session_state["sweep_key"] = next(iter(axes))
        varied = axes[st.session_state["sweep_key"]]
        c2.selectbox("Vary", list(axes), format_func=lambda k: axes[k].label,
                     key="sweep_key", on_change=on_key, disabled=running,
                     help="The task setting that makes the problem harder, one grid row "
                          "per value.")
        low, high = varied.bounds
        c1.text_input(varied.label.capitalize(), key="sweep_values", disabled=running,
                      help=f"The values to try: 1 to {MAX_VALUES} whole numbers from {low} to "
                           f"{high:,}, separated by commas.")
        units = spec(sc.ModelConfig, "units")
        c2.text_input("Units", key="sweep_units", disabled=running,
                      help=f"The encoder sizes to try, one grid column each: 1 to {MAX_VALUES} "
                           f"whole numbers from {units.low} to {units.high:,}, separated by "
                           "commas.")
    with st.container(border=True):
        st.subheader("Network and budget per cell")
        c1, c2 = st.columns(2)
        arch = spec(sc.ModelConfig, "arch")
        setting_input(c1, sc.ModelConfig, "arch", key="sweep_arch", format_func=ARCH_SHORT.get,
                      disabled=running, help=arch.help + "  \nHere Repeat's decoder keeps 2/3 "
                                                         "of the encoder's units, like seed "
                                                         "003's 75/50.")
        setting_input(c2, sc.ModelConfig, "cell", key="sweep_cell", disabled=running)
        d1, d2, d3 = st.columns(3)
        t = sc.TrainConfig
        setting_input(d1, t, "batch_size", key="sweep_batch", disabled=running)
        setting_input(d2, t, "learning_rate", key="sweep_lr", disabled=running)
        setting_input(d3, t, "target_accuracy", key="sweep_target", disabled=running,
                      label="Target exact match",
                      help="A cell stops once it reaches this exact match; 0 = off (every "
                           "cell trains its whole budget).")
        e1, e2 = st.columns(2)
        setting_input(e1, t, "max_samples", key="sweep_samples", disabled=running,
                      label="Samples per cell", help="The most training examples one cell may see.")
        setting_input(e2, t, "max_seconds", key="sweep_seconds", disabled=running, step=5.0,
                      label="Seconds per cell", help="The most training time one cell may take.")
        w1, w2 = st.columns(2)
        setting_input(w1, executors.Placement, "workers", key="sweep_workers", disabled=running)
        w2.caption(at_once(st.session_state["sweep_workers"], MAX_VALUES ** 2)[1])
    try:
        return build_config(), ""
    except sc.InvalidInput as err:
        return None, str(err)


def progress_text(p) -> str:
    """ "4 of 9 cells done · training cell 5: 3 (terms), 50 units — 40% of its budget · ..." """
    done = f"{p.done} of {plural(p.total, 'cell')} done"
    if not p.running:
        return done
    label = st.session_state["sweep_key_label"]
    shown = SHOWN_CELLS if len(p.running) > SHOWN_CELLS + 1 else len(p.running)
    cells = " · ".join(f"cell {c.index + 1}: {c.complexity} ({label}), "
                       f"{plural(c.units, 'unit')} — {share:.0%} of its budget"
                       for c, share in p.running[:shown])
    more = len(p.running) - shown
    return f"{done} · training {cells}" + (f" · and {more} more" if more else "")


def ended_text(p) -> str:
    """ "Stopped: 4 of 9 cells trained (cells 5, 6 were cut short and are left out)". """
    text = f"{str(p.status).capitalize()}: {p.trained} of {plural(p.total, 'cell')} trained"
    if len(p.cut_short) == 1:
        text += f" (cell {p.cut_short[0].index + 1} was cut short and is left out)"
    elif p.cut_short:
        numbers = ", ".join(str(c.index + 1) for c in p.cut_short)
        text += f" (cells {numbers} were cut short and are left out)"
    return text


def dash(value, fmt: str = "{}") -> str:
    """A value for the results table, "—" where there is none."""
    return "—" if value is None or pd.isna(value) else fmt.format(value)


def results_table(results: pd.DataFrame, label: str) -> pd.DataFrame:
    """The results as text, every missing value shown as "—"."""
    return pd.DataFrame({
        label: results["complexity"].map(dash),
        "units": results["units"].map(dash),
        "parameters": results["params"].map(lambda v: dash(v, "{:,.0f}")),
        "exact match": results["exact_match"].map(lambda v: dash(v, "{:.1%}")),
        "training time (s)": results["train_seconds"].map(lambda v: dash(v, "{:.1f}")),
        "samples": results["samples_seen"].map(lambda v: dash(v, "{:,.0f}")),
        "target reached": [("yes" if r else "no") if s == TRAINED else "—"
                           for r, s in zip(results["reached"], results["status"])],
        "status": results["status"],
        "run #": results["run_id"].map(dash),
    })


def show_results(results: pd.DataFrame, label: str) -> None:
    trained = int((results["status"] == TRAINED).sum()) if len(results) else 0
    if not trained:
        st.caption("The heatmaps fill in as cells finish." if sw.is_running() else
                   "No cell finished training, so there is nothing to draw.")
        return
    h1, h2 = st.columns(2)
    h1.altair_chart(sweep_heatmap(results, "exact_match", label), width="stretch")
    h2.altair_chart(sweep_heatmap(results, "train_seconds", label), width="stretch")
    missing = len(results) - trained
    if missing:
        st.caption(f"{plural(missing, 'cell')} without results (not trained to the end) "
                   "show “—”.")
    with st.expander("Results table"):
        st.dataframe(results_table(results, label), hide_index=True, width="stretch")


def live_sweep(polling: bool) -> None:
    """Progress and the heatmaps so far; reruns itself while the sweep runs."""
    sweep = sw.current()
    if sweep is None:
        return
    p = sweep.progress()
    if polling and not sweep.is_alive:
        st.rerun()  # a full rerun turns polling off and updates the buttons
    label = sweep.config.complexity_label
    st.session_state["sweep_key_label"] = label
    if sweep.is_alive:
        st.progress(p.fraction, text=progress_text(p))
    else:
        st.progress(p.fraction, text=ended_text(p))
        if p.error:
            st.error(f"The sweep failed: {md(p.error)}")
        if sweep.save_error:
            st.warning(md(sweep.save_error))
    show_results(sweep.results(), label)
