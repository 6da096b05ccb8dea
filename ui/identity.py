"""Who is using the app: one owner id per browser, and the teacher role.

The owner id says whose runs are whose (only their owner may rename or delete them) and
counts each person's running jobs. It is derived from Streamlit's XSRF cookie, which a
browser keeps across tabs and reloads and no other browser knows; hashed, so the id says
nothing about the cookie. Where there is no such cookie (AppTest, XSRF protection off) the
id is per browser session.

The teacher unlocks their role with the password in `$SEQ2SEQ_TEACHER_PASSWORD` (or
`teacher_password` in Streamlit secrets); the teacher may manage every run and is not held
to the per-person job limit.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
import time

import streamlit as st

OWNER, TEACHER, FAILURES = "_owner_id", "_teacher", "_teacher_failures"
COOKIE = "_streamlit_xsrf"
PASSWORD_ENV = "SEQ2SEQ_TEACHER_PASSWORD"
MAX_FAILURES = 5
FAILURE_DELAY_S = 1.0


def _cookie_token(raw) -> bytes | None:
    """The secret token inside Streamlit's XSRF cookie ('2|mask|masked|time'), or None."""
    if not isinstance(raw, str):
        return None
    parts = raw.strip("\"'").split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
            if not mask:
                return None
            token = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
        else:
            token = binascii.a2b_hex(parts[0])
    except (binascii.Error, ValueError):
        return None
    return token if len(token) >= 8 else None


def _browser_id() -> str | None:
    try:
        raw = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no context (tests, bare scripts): no cookie
        return None
    token = _cookie_token(raw)
    if token is None:
        return None
    return "browser-" + hashlib.sha256(b"seq2seq-lab owner\0" + token).hexdigest()[:24]


def owner_id() -> str:
    """This browser's owner id (stable for the session; across tabs where a cookie allows)."""
    state = st.session_state
    if OWNER not in state:
        state[OWNER] = _browser_id() or f"session-{secrets.token_hex(12)}"
    return state[OWNER]


def teacher_password() -> str | None:
    password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        try:
            password = str(st.secrets.get("teacher_password", ""))
        except Exception:  # noqa: BLE001 - no secrets file
            password = ""
    return password or None


def is_teacher() -> bool:
    return bool(st.session_state.get(TEACHER))


def manager() -> str | None:
    """Whose runs this session may change: its own (owner id), or every run (None) as teacher."""
    return None if is_teacher() else owner_id()


def unlock(attempt: str) -> str:
    """Try the teacher password; '' on success, else why not. Guessing is slowed and capped."""
    password = teacher_password()
    state = st.session_state
    if password is None:
        return f"No teacher password is set on this server ({PASSWORD_ENV})."
    if state.get(FAILURES, 0) >= MAX_FAILURES:
        return "Too many wrong passwords in this tab; reload the page to try again later."
    if hmac.compare_digest(attempt.encode(), password.encode()):
        state[TEACHER] = True
        state[FAILURES] = 0
        return ""
    state[FAILURES] = state.get(FAILURES, 0) + 1
    time.sleep(FAILURE_DELAY_S)
    return "That is not the teacher password."


def lock() -> None:
    st.session_state[TEACHER] = False


def teacher_panel() -> None:
    """A small sidebar panel to unlock (or leave) the teacher role."""
    with st.sidebar.expander("Teacher", icon=":material/school:"):
        if is_teacher():
            st.success("Teacher mode: you can manage every run and run several jobs at once.")
            st.button("Leave teacher mode", on_click=lock, key="teacher_lock")
            return
        if teacher_password() is None:
            st.caption(f"No teacher role on this server: set {PASSWORD_ENV} to enable it.")
            return
        with st.form("teacher_form", border=False):
            attempt = st.text_input("Teacher password", type="password", key="teacher_attempt")
            submitted = st.form_submit_button("Unlock")
        if submitted:
            why = unlock(attempt)
            if why:
                st.error(why)
            else:
                st.rerun()
