"""Sweep: model size x problem complexity, the study of seed 003's extensions.

Every cell of a grid (a task setting such as the number of terms, x the encoder's units)
trains one model in the background, one after another; the result is a heatmap of exact
match and one of the time each cell took to reach the target. Every cell is also a run in
the history (Experiments page). Every key this page keeps in session state starts with
"sweep_".
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.charts.experiments import sweep_heatmap
from seq2seq_core.sweep import COMPLEXITY, MAX_VALUES, SweepConfig
from ui import sweep as sw
from ui import widgets
from ui.form import ARCH_LABELS, CELL_LABELS
from ui.text import md

POLL_SECONDS = 1.5
TASKS = {"addition": "Addition (seed 003)", "reverse": "Reverse integers"}
DEFAULT_VALUES = {"n_terms": "2, 3, 4", "largest": "10, 50, 100", "digits": "1, 2, 3",
                  "n_in": "4, 6, 8", "n_out": "1, 2, 3", "cardinality": "10, 50, 100"}
DEFAULTS = {"sweep_task": "addition", "sweep_key": "n_terms", "sweep_values": "2, 3, 4",
            "sweep_units": "25, 50, 100", "sweep_arch": "repeat", "sweep_cell": "lstm",
            "sweep_batch": 128, "sweep_lr": 0.01, "sweep_samples": 300_000,
            "sweep_seconds": 30, "sweep_target": 0.99}
SAVED = "sweep_saved"


def on_task() -> None:
    task = st.session_state["sweep_task"]
    key = next(iter(COMPLEXITY[task]))
    st.session_state["sweep_key"] = key
    st.session_state["sweep_values"] = DEFAULT_VALUES[key]
    st.session_state["sweep_arch"] = "repeat" if task == "addition" else "teacher"


def on_key() -> None:
    st.session_state["sweep_values"] = DEFAULT_VALUES[st.session_state["sweep_key"]]


def parse_values(text: str, what: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise sc.InvalidInput(f"The {what} must be whole numbers separated by commas; "
                              f"got “{text}”.") from None


def build_config() -> SweepConfig:
    s = st.session_state
    task = s["sweep_task"]
    units = parse_values(s["sweep_units"], "units values")
    arch = s["sweep_arch"]
    base_units = units[0] if units else 75
    decoder = max(1, round(base_units * 50 / 75)) if arch == "repeat" else None
    model = sc.ModelConfig(arch=arch, cell=s["sweep_cell"], units=base_units,
                           decoder_units=decoder)
    target = float(s["sweep_target"])
    train = sc.TrainConfig(batch_size=int(s["sweep_batch"]), learning_rate=float(s["sweep_lr"]),
                           max_samples=int(s["sweep_samples"]),
                           max_seconds=float(s["sweep_seconds"]),
                           target_accuracy=target if target > 0 else None)
    return SweepConfig(task=task, complexity_key=s["sweep_key"],
                       complexity_values=parse_values(s["sweep_values"], "complexity values"),
                       units_values=units, model_config=model, train_config=train)


def settings_form(running: bool) -> tuple[SweepConfig | None, str]:
    with st.container(border=True):
        st.subheader("Grid")
        c1, c2 = st.columns(2)
        c1.radio("Task", list(TASKS), format_func=TASKS.get, key="sweep_task",
                 on_change=on_task, disabled=running, horizontal=True)
        keys = COMPLEXITY[st.session_state["sweep_task"]]
        if st.session_state["sweep_key"] not in keys:
            st.session_state["sweep_key"] = next(iter(keys))
        c2.selectbox("Problem complexity: vary", list(keys), format_func=keys.get,
                     key="sweep_key", on_change=on_key, disabled=running)
        c1.text_input(f"{keys[st.session_state['sweep_key']].capitalize()} values",
                      key="sweep_values", disabled=running,
                      help=f"1 to {MAX_VALUES} whole numbers, separated by commas.")
        c2.text_input("Encoder units values", key="sweep_units", disabled=running,
                      help=f"1 to {MAX_VALUES} model sizes, separated by commas.")
    with st.container(border=True):
        st.subheader("Network and budget per cell")
        c1, c2 = st.columns(2)
        c1.selectbox("Architecture", list(ARCH_LABELS), format_func=ARCH_LABELS.get,
                     key="sweep_arch", disabled=running,
                     help="Repeat is seed 003's network (its decoder keeps 2/3 of the "
                          "encoder's units, like 75/50).")
        c2.selectbox("Cell", list(CELL_LABELS), format_func=CELL_LABELS.get, key="sweep_cell",
                     disabled=running)
        d1, d2, d3 = st.columns(3)
        d1.number_input("Batch size", 1, 4096, step=16, key="sweep_batch", disabled=running)
        d2.number_input("Learning rate", 1e-6, 1.0, step=0.001, format="%.4f", key="sweep_lr",
                        disabled=running)
        d3.number_input("Stop at exact match (0 = off)", 0.0, 1.0, step=0.01, format="%.2f",
                        key="sweep_target", disabled=running)
        e1, e2 = st.columns(2)
        e1.number_input("Samples budget per cell", 1, 20_000_000, step=10_000,
                        key="sweep_samples", disabled=running)
        e2.number_input("Time budget per cell (s)", 1, 3600, step=5, key="sweep_seconds",
                        disabled=running)
    try:
        return build_config(), ""
    except sc.InvalidInput as err:
        return None, str(err)


def progress_text(p) -> str:
    if p.current is None:
        return f"{p.done} of {p.total} cells trained"
    return (f"Cell {p.done + 1} of {p.total}: {p.current.complexity} "
            f"({st.session_state['sweep_key_label']}), {p.current.units} units — "
            f"{p.cell_progress:.0%} of its budget")


def show_results(results: pd.DataFrame, label: str) -> None:
    if results.empty:
        st.caption("The heatmaps fill in as cells finish.")
        return
    h1, h2 = st.columns(2)
    h1.altair_chart(sweep_heatmap(results, "exact_match", label), width="stretch")
    h2.altair_chart(sweep_heatmap(results, "train_seconds", label), width="stretch")
    with st.expander("Results table"):
        table = results[["complexity", "units", "params", "exact_match", "train_seconds",
                         "samples_seen", "reached", "status", "run_id"]]
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "complexity": st.column_config.NumberColumn(label, format="%d"),
            "exact_match": st.column_config.NumberColumn("exact match", format="percent"),
            "train_seconds": st.column_config.NumberColumn("training time (s)", format="%.1f"),
            "params": st.column_config.NumberColumn("parameters", format="localized"),
            "samples_seen": st.column_config.NumberColumn("samples", format="localized"),
            "run_id": st.column_config.NumberColumn("run #", format="%d")})


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
        status = {"finished": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(
            p.status, p.status)
        st.progress(p.fraction, text=f"{status}: {p.done} of {p.total} cells trained")
        if p.error:
            st.error(f"The sweep failed: {md(p.error)}")
    show_results(sweep.results(), label)


# ---- the page ------------------------------------------------------------------------------
widgets.restore(SAVED, DEFAULTS)
st.title("Sweep: model size × problem complexity")
st.caption("Seed 003's study: how big must the network be as the problem gets harder? Each "
           "cell of the grid trains one model on its own budget, one after another; each is "
           "also recorded on the Experiments page.")

running = sw.is_running()
config, error = settings_form(running)
widgets.save(SAVED, DEFAULTS)
if error:
    st.error(md(error))
elif config is not None and not running:
    worst = config.size * config.train_config.max_seconds
    st.caption(f"{config.size} cells; at most {worst / 60:.1f} min of training "
               f"({config.train_config.max_seconds:g} s per cell), less where a cell reaches "
               "the target early.")

b1, b2, _ = st.columns([1, 1, 3])
if b1.button("Start sweep", icon=":material/play_arrow:", type="primary", key="sweep_start",
             disabled=running or config is None, width="stretch"):
    message = sw.start(config)
    if message:
        st.error(md(message))
    else:
        st.rerun()
b2.button("Stop", icon=":material/stop:", key="sweep_stop", on_click=sw.stop,
          disabled=not running, width="stretch")

if sw.current() is not None:
    st.subheader("This sweep")
    st.fragment(live_sweep, run_every=POLL_SECONDS if running else None)(running)

# ---- past sweeps -------------------------------------------------------------------------
past = sw.past_sweeps()
if not past.empty:
    st.subheader("Past sweeps")
    options = list(past["sweep_id"])
    info = {r.sweep_id: f"{r.sweep_id} · {r.task} · {r.runs} cells" for r in past.itertuples()}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox("A sweep from the history", options, format_func=info.get,
                          key="sweep_past")
    if c2.button("Show its results", key="sweep_load", width="stretch"):
        st.session_state[sw.RESULTS] = sw.load_past(chosen)
    results = st.session_state.get(sw.RESULTS)
    if results is not None:
        st.markdown(f"**Sweep {results.attrs.get('sweep_id')}** ({results.attrs.get('task')}, "
                    f"from the history)")
        show_results(results, results.attrs.get("complexity_label", "complexity"))
