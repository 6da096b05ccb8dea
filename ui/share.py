"""The Train page's setup in the page URL, so a link opens the same task, network and training.

On the Train page: `apply_link()` before the widgets are drawn (a link's values fill them),
`publish(choice)` after (the URL follows the widgets, with only non-default values).
Streamlit clears the query parameters when another page is opened; coming back to Train
writes them again from the widgets, so an empty query never resets anything.
"""
from __future__ import annotations

import streamlit as st

import seq2seq_core as sc
from seq2seq_core import share

from seq2seq_core.corpus import clean_name

from . import form
from .text import md

WRITTEN = "_query_written"
NOTICE = "_link_notice"


def link_values(params: dict) -> dict:
    """Widget key -> value for a link's query parameters. Raises InvalidInput naming the
    bad parameter (unknown task, a value of the wrong type or outside its setting's range)."""
    return form.config_values(*share.from_query(params))


def apply_link() -> None:
    """Fill the widgets from the URL when it carries a link (not the page's own parameters)."""
    params = st.query_params.to_dict()
    if not params or params == st.session_state.get(WRITTEN):
        return
    st.session_state[WRITTEN] = params  # handle each link once
    try:
        values = link_values(params)
    except sc.InvalidInput as err:
        st.session_state[NOTICE] = ("warning", f"This link's settings could not be used: {md(err)} "
                                               "The default settings are shown instead.")
        for key, value in form.DEFAULTS.items():
            st.session_state[key] = value
        return
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state.pop("preset", None)
    message = "Settings loaded from the link."
    corpus = getattr(share.from_query(params)[1], "corpus", "phrasebook")
    if corpus != "phrasebook":
        message += (f" It was made with the sentence file **{md(clean_name(corpus))}**: upload it "
                    "again below.")
    st.session_state[NOTICE] = ("info", message)


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        kind, text = notice
        (st.warning if kind == "warning" else st.info)(text, icon=":material/link:")


def publish(choice: form.Choice) -> None:
    """Write the widgets' setup into the URL (only values that differ from the defaults)."""
    if not choice.ok:
        return
    query = share.to_query(choice.task.name, choice.task.settings, choice.model_config,
                           choice.train_config)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    st.session_state[WRITTEN] = query
