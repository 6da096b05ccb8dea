"""seq2seq-lab: train encoder-decoder LSTM models live and look inside them.

Run from the repository root:  streamlit run app.py
"""
import streamlit as st

from ui import executor, form, identity, training
from ui.keras_state import keep_keras_state_between_reruns

keep_keras_state_between_reruns()  # background sweeps build models while pages rerun
# Pages along the top and the sidebar (the teacher's panel) folded away: on a 1024 px
# projector the page gets the whole width.
st.set_page_config(page_title="seq2seq-lab", page_icon=":material/sync_alt:", layout="wide",
                   initial_sidebar_state="collapsed")

# Widget values survive page switches, and a run that ended while another page was open
# still hands its model to the Inspect page.
form.ensure_defaults()
form.keep_widget_values()
training.publish_if_done()

page = st.navigation([
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/inspect.py", title="Inspect", icon=":material/search:"),
    st.Page("app_pages/study.py", title="Why attention?", icon=":material/compare_arrows:"),
    st.Page("app_pages/sweep.py", title="Sweep", icon=":material/grid_on:"),
    st.Page("app_pages/experiments.py", title="Experiments", icon=":material/lab_profile:"),
], position="top")
identity.owner_id()  # who this browser is, for run ownership and job limits
identity.teacher_panel()
executor.executor_panel()
page.run()
