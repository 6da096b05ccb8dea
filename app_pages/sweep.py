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
from seq2seq_core.sweep import COMPLEXITY, MAX_VALUES, TRAINED, SweepConfig, plural
from ui import sweep as sw
from ui import widgets
from ui.form import ARCH_HELP, ARCH_LABELS, CELL_LABELS
from ui.text import md

POLL_SECONDS = 1.5
TASKS = {"addition": "Addition", "reverse": "Reverse integers"}
DEFAULT_VALUES = {"n_terms": "2, 3, 4", "largest": "10, 50, 100", "digits": "1, 2, 3",
                  "n_in": "4, 6, 8", "n_out": "1, 2, 3", "cardinality": "10, 50, 100"}
DEFAULTS = {"sweep_task": "addition", "sweep_key": "n_terms", "sweep_values": "2, 3, 4",
            "sweep_units": "25, 50, 100", "sweep_arch": "repeat", "sweep_cell": "lstm",
            "sweep_batch": 128, "sweep_lr": 0.01, "sweep_samples": 300_000,
            "sweep_seconds": 30, "sweep_target": 0.99}
SAVED = "sweep_saved"


def short_arch(arch: str) -> str:
    """ "Repeat" for "Repeat (encoder output repeated ...)": the detail is in the help."""
    return ARCH_LABELS[arch].split(" (")[0]


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
        c2.selectbox("Vary", list(keys), format_func=keys.get,
                     key="sweep_key", on_change=on_key, disabled=running,
                     help="The task setting that makes the problem harder, one grid row "
                          "per value.")
        c1.text_input(keys[st.session_state["sweep_key"]].capitalize(),
                      key="sweep_values", disabled=running,
                      help=f"The values to try: 1 to {MAX_VALUES} whole numbers, separated "
                           "by commas.")
        c2.text_input("Units", key="sweep_units", disabled=running,
                      help=f"The encoder sizes to try, one grid column each: 1 to {MAX_VALUES} "
                           "whole numbers, separated by commas.")
    with st.container(border=True):
        st.subheader("Network and budget per cell")
        c1, c2 = st.columns(2)
        c1.selectbox("Architecture", list(ARCH_LABELS), format_func=short_arch,
                     key="sweep_arch", disabled=running,
                     help=ARCH_HELP + "  \nHere Repeat's decoder keeps 2/3 of the encoder's "
                                      "units, like seed 003's 75/50.")
        c2.selectbox("Cell", list(CELL_LABELS), format_func=CELL_LABELS.get, key="sweep_cell",
                     disabled=running)
        d1, d2, d3 = st.columns(3)
        d1.number_input("Batch size", 1, 4096, step=16, key="sweep_batch", disabled=running)
        d2.number_input("Learning rate", 1e-6, 1.0, step=0.001, format="%.4f", key="sweep_lr",
                        disabled=running)
        d3.number_input("Target exact match", 0.0, 1.0, step=0.01, format="%.2f",
                        key="sweep_target", disabled=running,
                        help="A cell stops once it reaches this exact match; 0 = off (every "
                             "cell trains its whole budget).")
        e1, e2 = st.columns(2)
        e1.number_input("Samples per cell", 1, 20_000_000, step=10_000,
                        key="sweep_samples", disabled=running,
                        help="The most training examples one cell may see.")
        e2.number_input("Seconds per cell", 1, 3600, step=5, key="sweep_seconds",
                        disabled=running, help="The most training time one cell may take.")
    try:
        return build_config(), ""
    except sc.InvalidInput as err:
        return None, str(err)


def progress_text(p) -> str:
    if p.current is None:
        return f"{p.trained} of {plural(p.total, 'cell')} trained"
    return (f"Cell {p.done + 1} of {p.total}: {p.current.complexity} "
            f"({st.session_state['sweep_key_label']}), {plural(p.current.units, 'unit')} — "
            f"{p.cell_progress:.0%} of its budget")


def ended_text(p) -> str:
    """ "Stopped: 4 of 9 cells trained (cell 5 was cut short and is left out)". """
    status = {"finished": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(
        p.status, str(p.status).capitalize())
    text = f"{status}: {p.trained} of {plural(p.total, 'cell')} trained"
    if p.cut_short is not None:
        text += f" (cell {p.cut_short.index + 1} was cut short and is left out)"
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


# ---- the page ------------------------------------------------------------------------------
widgets.restore(SAVED, DEFAULTS)
st.title("Sweep: model size × problem complexity")
st.caption("The study of the original addition example (seed 003): how big must the network "
           "be as the problem gets harder? Each cell of the grid trains one model on its own "
           "budget, one after another; each is also recorded on the Experiments page.")

running = sw.is_running()
config, error = settings_form(running)
widgets.save(SAVED, DEFAULTS)
if error:
    st.error(md(error))
elif config is not None and not running:
    worst = config.size * config.train_config.max_seconds
    st.caption(f"{plural(config.size, 'cell')}; at most {worst / 60:.1f} min of training "
               f"({config.train_config.max_seconds:g} s per cell), less where a cell reaches "
               "the target early.")

buttons = st.container(horizontal=True)
start_clicked = buttons.button("Start sweep", icon=":material/play_arrow:", type="primary",
                               key="sweep_start", disabled=running or config is None)
buttons.button("Stop", icon=":material/stop:", key="sweep_stop", on_click=sw.stop,
               disabled=not running)
if start_clicked:
    message = sw.start(config)
    if message:
        st.error(md(message))
    else:
        st.rerun()

if sw.current() is not None:
    st.subheader("This sweep")
    st.fragment(live_sweep, run_every=POLL_SECONDS if running else None)(running)

# ---- past sweeps -------------------------------------------------------------------------
past = sw.past_sweeps()
if sw.current() is None and sw.RESULTS not in st.session_state \
        and not st.session_state.get("_sweep_reopened"):
    st.session_state["_sweep_reopened"] = True  # once per session: after a reload
    if (mine := sw.latest_own_sweep()) is not None and mine in set(past["sweep_id"]):
        try:
            st.session_state[sw.RESULTS] = sw.load_past(mine)
            st.session_state["sweep_past"] = mine
        except sc.InvalidInput:
            pass
if not past.empty:
    st.subheader("Past sweeps")
    options = list(past["sweep_id"])
    info = dict(zip(past["sweep_id"], past["label"]))
    chosen = st.selectbox("A sweep from the history", options, format_func=info.get,
                          key="sweep_past")
    if st.button("Show its results", key="sweep_load"):
        try:
            st.session_state[sw.RESULTS] = sw.load_past(chosen)
        except sc.InvalidInput as err:
            st.error(f"Could not load that sweep: {md(err)}")
    results = st.session_state.get(sw.RESULTS)
    if results is not None:
        title = results.attrs.get("name") or "Sweep"
        stamp = results.attrs.get("when")
        st.markdown(f"**{md(title)}**" + (f" ({md(stamp)}, from the history)" if stamp else
                                          " (from the history)"))
        show_results(results, results.attrs.get("complexity_label", "complexity"))
