"""A value kept in this session's state and recomputed only when what it depends on changes.

Streamlit's own `st.cache_data` / `st.cache_resource` are shared by every session and hash
their arguments; a model or a decode is one student's and must not be hashed or shared, so
each page keeps such results in its own session slot through `remembered`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")
_PLAIN = (str, bytes, int, float, bool, type(None))


def same(a, b) -> bool:
    """Plain values (and tuples of them) compare by value; objects such as a model by identity,
    so a retrained model of the same settings never reuses the old one's results."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, _PLAIN) and isinstance(b, _PLAIN):
        return type(a) is type(b) and a == b
    return a is b


def remembered(slot: str, key, compute: Callable[[], T]) -> T:
    """The value kept in session slot `slot` for `key`, computing and keeping it when the
    slot is empty or was filled for another key."""
    kept = st.session_state.get(slot)
    if kept is not None and same(kept[0], key):
        return kept[1]
    value = compute()
    st.session_state[slot] = (key, value)
    return value


def forget(*slots: str) -> None:
    for slot in slots:
        st.session_state.pop(slot, None)
