"""Who is using the app: one owner id per browser, and the teacher role.

The owner id says whose runs are whose (only their owner may rename or delete them) and
counts each person's running jobs. It is derived from Streamlit's XSRF cookie, which a
browser keeps across tabs and reloads and no other browser knows; hashed, so the id says
nothing about the cookie. Where there is no such cookie (AppTest, XSRF protection off) the
id is per browser session.

A student can shed the cookie (private windows, cleared cookies) and look like someone new,
so the job limits also count per network address (`address()`), which a student on the
class network cannot change as easily.

The teacher unlocks their role with the password in `$SEQ2SEQ_TEACHER_PASSWORD` (or
`teacher_password` in Streamlit secrets); the teacher may manage every run and is not held
to the per-person job limits. Wrong passwords are counted for the whole server.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time

import streamlit as st

OWNER, TEACHER = "_owner_id", "_teacher"
COOKIE = "_streamlit_xsrf"
PASSWORD_ENV = "SEQ2SEQ_TEACHER_PASSWORD"
MAX_FAILURES = 5            # wrong passwords per browser or address within LOCKOUT_S
MAX_FAILURES_SERVER = 20    # wrong passwords from anyone within LOCKOUT_S
LOCKOUT_S = 600.0
FAILURE_DELAY_S = 1.0       # the wait after a wrong password, longer after each one
# Failure times per key (an owner id, an address, "*" for all): process-wide, so reloads,
# tabs and fresh cookies share them.
_FAILURES: dict[str, list[float]] = {}
_FAILURES_LOCK = threading.Lock()
log = logging.getLogger(__name__)


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


def address() -> str | None:
    """The client's network address (None on localhost or where Streamlit cannot tell)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no context (tests, bare scripts)
        return None


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


def _recent(key: str, now: float) -> list[float]:
    times = [t for t in _FAILURES.get(key, []) if now - t < LOCKOUT_S]
    _FAILURES[key] = times
    return times


def _lockout(keys: list[str], now: float) -> str:
    """Why guessing is locked now ('' if it is not). Caller holds _FAILURES_LOCK."""
    if len(_recent("*", now)) >= MAX_FAILURES_SERVER:
        return ("Too many wrong teacher passwords on this server: the teacher role is locked "
                f"for up to {LOCKOUT_S // 60:.0f} minutes (or until the server restarts).")
    if any(len(_recent(k, now)) >= MAX_FAILURES for k in keys):
        return (f"Too many wrong passwords from this browser: try again in "
                f"{LOCKOUT_S // 60:.0f} minutes.")
    return ""


def unlock(attempt: str) -> str:
    """Try the teacher password; '' on success, else why not.

    Failures count for the whole server process, per browser, per address and in all, so
    neither reloading, nor new tabs, nor cleared cookies give an attacker more guesses; each
    failure also waits a little longer than the last.
    """
    password = teacher_password()
    if password is None:
        return f"No teacher password is set on this server ({PASSWORD_ENV})."
    keys = [owner_id()] + ([f"address {a}"] if (a := address()) else [])
    now = time.monotonic()
    with _FAILURES_LOCK:
        locked = _lockout(keys, now)
        if locked:
            return locked
        recent = len(_recent(keys[0], now))
    if hmac.compare_digest(attempt.encode(), password.encode()):
        st.session_state[TEACHER] = True
        return ""
    with _FAILURES_LOCK:
        for key in keys + ["*"]:
            _FAILURES.setdefault(key, []).append(now)
    log.warning("wrong teacher password from %s", " / ".join(keys))
    time.sleep(FAILURE_DELAY_S * (1 + recent))
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
