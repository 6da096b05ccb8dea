"""Why attention? Train small models with and without a trick (attention, or a reversed
source) on longer and longer inputs, and plot exact match against input length; or train
with and without attention on short inputs only and test on longer ones (length
generalization)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seq2seq_core.status import Status
from ui import levels, widgets
from ui.polling import POLL_SECONDS
from ui.study import (DEFAULTS, RESULTS, SAVED, collect_if_done, draw_results,
                      earlier_studies, is_running, progress_view, results_caption,
                      settings_form, stopped_message, summary)
from ui.text import md

# ---- page ---------------------------------------------------------------------------------------
st.title("Why attention?")
st.caption("Train small encoder-decoders on longer and longer inputs, with and without a trick, "
           "and watch where the plain model breaks down.")
widgets.restore(SAVED, DEFAULTS)
collect_if_done()
running = is_running()

settings_form(running)
widgets.save(SAVED, DEFAULTS)
earlier_studies()
st.divider()
if running:
    st.header("Running", anchor=False)
    if note := st.session_state.get("study_history_note"):
        st.caption(note)
    st.fragment(progress_view, run_every=POLL_SECONDS)(True)
elif results := st.session_state.get(RESULTS):
    rcfg = results["config"]
    frame: pd.DataFrame = results["frame"]
    st.header("Results", anchor=False)
    st.caption(results_caption(rcfg))
    if results["status"] == Status.FAILED:
        st.error(f"The study failed: {md(results['error'])}")
    elif results["status"] == Status.STOPPED:
        st.warning(stopped_message(results))
    for failure in results.get("failed", ()):
        st.error(f"A model failed and is left out: {md(failure)}")
    if frame.empty:
        st.info("No model finished, so there is nothing to draw yet.")
    else:
        if line := summary(frame, rcfg):
            st.markdown(line)
        draw_results(frame, rcfg, "final")
        if rcfg.task == "translation":
            st.caption("The phrasebook is small, so every model is scored on the pairs it "
                       "trained on: this measures how well each learned them, by length, not "
                       "how well it translates new sentences.")
        st.caption(st.session_state.get("study_history_note")
                   or "Every model of the study is also recorded in the run history.")
else:
    st.info("Choose the settings and press **Start**. The chart of exact match against input "
            "length appears here as the models finish.")

st.divider()
levels.section()
