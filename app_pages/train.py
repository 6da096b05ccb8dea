"""Train: pick a task, a network and a budget; start, pause, resume, stop; watch it learn."""
import streamlit as st

from ui import form, models, share, training
from ui import train_page as view
from ui.text import md

form.ensure_defaults()
share.apply_link()  # a shared link's settings fill the widgets (before they are drawn)
st.title("Train")
share.show_notice()
if preset := st.session_state.get("preset"):
    st.caption(f"Preset: **{preset}** — change anything below before pressing Start.")

settings_col, live_col = st.columns([2, 3], gap="large")

# ---- settings ------------------------------------------------------------------------------
with settings_col:
    with st.container(border=True):
        st.subheader("Task")
        task, task_error, corpus_key = form.task_widgets()
        if task_error:
            st.error(md(task_error))
    with st.container(border=True):
        st.subheader("Network")
        model_config, model_error = form.model_widgets()
        if model_error:
            st.error(md(model_error))
    with st.container(border=True):
        st.subheader("Training")
        train_config, train_error = form.train_widgets()
        if train_error:
            st.error(md(train_error))

choice = form.Choice(task, model_config, train_config, task_error, model_error, train_error,
                     corpus_key)
share.publish(choice)  # the page URL now describes this setup: a link to share
cost, cost_error = training.cost(choice)  # by formula: a link never builds a big network

with settings_col:
    if cost_error:
        st.error(md(cost_error))
    if cost is not None:
        view.summary_section(choice, cost)
    if choice.ok:
        view.export_section(choice)
    st.caption(":material/link: The page address now holds these settings: copy it from the "
               "browser to share this setup.")

# ---- the run -------------------------------------------------------------------------------
with live_col:
    view.controls(choice, cost)
    view.watch_section(choice)
    view.live_panel()
    models.models_section(choice)
