"""User text shown on a page: escaped so markdown shows it literally; errors as messages.

Run names, file names, corpus names, typed inputs and error messages that quote them are
hostile until shown safely: unescaped, `![x](http://…)` would load an outside image and
`[Click](…)` would be a link inside an official-looking notice.
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager

import streamlit as st

from seq2seq_core.errors import InvalidInput

log = logging.getLogger(__name__)

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:=")
# Streamlit's markdown turns bare addresses into links even when escaped; an invisible word
# joiner inside "://", "www." and "@" keeps them plain text that reads the same.
_JOIN = "\u2060"
_AUTOLINKS = ((re.compile(r"://"), f":{_JOIN}//"), (re.compile(r"(?i)\bwww\."), rf"www{_JOIN}."),
              (re.compile("@"), f"{_JOIN}@"))


def duration(seconds: float) -> str:
    """ "45 s" or "1.5 min": how long something takes, for a caption."""
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def md(text) -> str:
    """`text` escaped so that st.markdown (and st.info, st.error…) shows it as it is, on
    one line (a newline could start a heading or a list)."""
    flat = " ".join(str(text).splitlines())
    for pattern, broken in _AUTOLINKS:
        flat = pattern.sub(broken, flat)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in flat)


@contextmanager
def shown_errors(what: str):
    """Any error inside the block becomes a message on the page, never a traceback.

    InvalidInput says what is wrong with the input; anything else is logged for the server's
    operator and shown as a short apology naming `what` failed. Streamlit's own control
    flow (st.rerun, st.stop) passes through: it is not an Exception.
    """
    try:
        yield
    except InvalidInput as err:
        st.error(md(err))
    except Exception:  # noqa: BLE001 - a page must survive any input
        log.exception("%s failed", what)
        st.error(f"{md(what)} failed for this input. The other views still work; try another "
                 "input.", icon=":material/error:")
