"""Widget values that survive a page switch.

Streamlit drops a widget's value while its page is not shown. A page saves its widgets'
values under one session-state key after drawing them, and restores them before.
"""
from __future__ import annotations

from collections.abc import Iterable

import streamlit as st


def restore(saved_key: str, defaults: dict | None = None) -> None:
    """Give every widget that has no value the one saved under `saved_key` (else its default)."""
    saved = st.session_state.get(saved_key, {})
    for key, value in {**(defaults or {}), **saved}.items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_within(key: str, options, default) -> None:
    """Give widget `key` `default` when its kept value is not among `options` (another
    input, layer or model may have dropped it), before the widget is drawn."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def save(saved_key: str, keys: Iterable[str]) -> None:
    """Keep the current values of the widgets `keys` under `saved_key`."""
    st.session_state[saved_key] = {k: st.session_state[k] for k in keys if k in st.session_state}
