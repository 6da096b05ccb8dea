"""Sweep: model size x problem complexity, the study of seed 003's extensions.

Every cell of a grid (a task setting such as the number of terms, x the encoder's units)
trains one model in the background, one after another; the result is a heatmap of exact
match and one of the time each cell took to reach the target. Every cell is also a run in
the history (Experiments page). Every key this page keeps in session state starts with
"sweep_".
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc
from ui import sweep as sw
from ui import widgets
from ui.executor import at_once, longest_seconds
from ui.polling import POLL_SECONDS
from ui.sweep_views import (DEFAULTS, SAVED, live_sweep, settings_form,
                            show_results)
from seq2seq_core.vocab import plural
from ui.text import duration, md

# ---- the page ------------------------------------------------------------------------------
widgets.restore(SAVED, DEFAULTS)
st.title("Sweep: model size × problem complexity")
st.caption("The study of the original addition example (seed 003): how big must the network "
           "be as the problem gets harder? Each cell of the grid trains one model on its own "
           "budget, several at once on Ray; each is also recorded on the Experiments page.")

running = sw.is_running()
config, error = settings_form(running)
widgets.save(SAVED, DEFAULTS)
if error:
    st.error(md(error))
elif config is not None and not running:
    together, _ = at_once(st.session_state["sweep_workers"], config.size)
    worst = longest_seconds(config.size, together, config.train_config.max_seconds)
    st.caption(f"{plural(config.size, 'cell')}, {together} at a time; at most "
               f"{duration(worst)} of training "
               f"({config.train_config.max_seconds:g} s per cell), less where a cell reaches "
               "the target early.")

buttons = st.container(horizontal=True)
start_clicked = buttons.button("Start sweep", icon=":material/play_arrow:", type="primary",
                               key="sweep_start", disabled=running or config is None)
buttons.button("Stop", icon=":material/stop:", key="sweep_stop", on_click=sw.stop,
               disabled=not running)
if start_clicked:
    message = sw.start(config, st.session_state["sweep_workers"])
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
