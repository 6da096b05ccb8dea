"""Process-wide bookkeeping of jobs (trainings, sweeps, studies, evaluations): a cap on
how many run at once on the server and for each person, and a sweep that stops the jobs of
a browser session that has gone away.

Each browser tab is a Streamlit session with its own `st.session_state`, so each owns its
jobs. This module is the only process-wide state: a registry (module level, guarded by a
lock) of the jobs that are alive, keyed by a token, with the session and the owner (see
`ui.identity`) they belong to. The limits are the core's `ServerLimits`.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from seq2seq_core.budget import ServerLimits

log = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0
# A session must look closed for this long before its training is stopped: a tab that
# briefly loses its connection reconnects to the same session.
GRACE_SECONDS = 30.0


def limits() -> ServerLimits:
    """This server's limits, read from the environment (cheap: no caching needed)."""
    return ServerLimits.from_env()


def current_session_id() -> str | None:
    """The id of the Streamlit session running this script, or None outside Streamlit."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx(suppress_warning=True)
        return ctx.session_id if ctx is not None else None
    except Exception:  # noqa: BLE001 - streamlit internals moved: act as if unknown
        return None


def session_is_open(session_id: str | None) -> bool | None:
    """True/False if the Streamlit runtime knows whether the session is connected; None if
    it cannot tell (no runtime, e.g. under AppTest or in a plain process, or an API change).

    This is the one place that touches Streamlit internals (`streamlit.runtime`).
    """
    if session_id is None:
        return None
    try:
        from streamlit import runtime
        if not runtime.exists():
            return None
        return bool(runtime.get_instance().is_active_session(session_id))
    except Exception:  # noqa: BLE001 - fallback: never stop a training we cannot judge
        return None


@dataclass
class Entry:
    trainer: object
    session_id: str | None
    owner: str | None = None
    label: str = "a training"
    address: str | None = None
    pool: str = "local"  # where it trains ("local", "ray"): each has its own server-wide cap
    started: float = field(default_factory=time.monotonic)
    closed_since: float | None = None


class TrainingCapReached(RuntimeError):
    """Raised by `register` when the server, or this person, already runs the most jobs allowed."""


class _Slot:
    """A job that runs in the script thread (an evaluation): alive until released."""

    is_alive = True

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class Registry:
    """The trainings alive in this process. Thread-safe."""

    def __init__(self, is_open=session_is_open, sweep_seconds: float = SWEEP_SECONDS,
                 grace_seconds: float = GRACE_SECONDS):
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._is_open = is_open
        self.sweep_seconds = sweep_seconds
        self.grace_seconds = grace_seconds
        self._sweeper: threading.Thread | None = None

    def _prune(self) -> None:
        """Forget trainers whose thread has ended (caller holds the lock)."""
        for token in [t for t, e in self._entries.items() if not _alive(e.trainer)]:
            del self._entries[token]

    def active(self) -> int:
        with self._lock:
            self._prune()
            return len(self._entries)

    def register(self, trainer, session_id: str | None, limit: int | None = None,
                 start=None, owner: str | None = None, per_owner: int | None = None,
                 label: str = "a training", address: str | None = None,
                 per_address: int | None = None, pool: str = "local") -> str:
        """Start `trainer` under the caps; returns a token. Raises TrainingCapReached.

        `trainer` is anything with `start()`, `stop()` and `is_alive` (a Trainer, a Sweep).
        `start`, when given, is called instead of `trainer.start()` (e.g. to pass callbacks).
        `limit` caps the jobs of the whole server in its `pool` (jobs in this process and
        jobs on Ray are counted apart: Ray's cap is the cluster's), `per_owner` (None: no
        cap) those of `owner` over every pool and `per_address` those from one network
        `address`; `label` says what the job is in messages.
        """
        limit = limits().max_trainings if limit is None else limit
        with self._lock:
            self._prune()
            mine = [e for e in self._entries.values() if owner is not None and e.owner == owner]
            if per_owner is not None and len(mine) >= per_owner:
                running = ", ".join(e.label for e in mine)
                raise TrainingCapReached(
                    f"You are already running {running}; this server lets each person run "
                    f"{per_owner} job{'s' if per_owner != 1 else ''} at a time (trainings, "
                    "sweeps, studies and evaluations count alike). Stop it or wait for it to "
                    "finish, then try again.")
            near = [e for e in self._entries.values()
                    if address is not None and e.address == address]
            if per_address is not None and len(near) >= per_address:
                raise TrainingCapReached(
                    f"{len(near)} jobs are already running from your computer's network "
                    f"address, the most this server allows from one ({per_address}). Stop one "
                    "(in any tab or browser), then try again.")
            same = [e for e in self._entries.values() if e.pool == pool]
            if len(same) >= limit:
                where = "on the Ray cluster" if pool == "ray" else "on this server"
                raise TrainingCapReached(
                    f"{len(same)} jobs are already running {where}, the most it allows at "
                    f"once ({limit}). Wait for one to finish, then try again.")
            token = uuid.uuid4().hex
            (start or trainer.start)()
            self._entries[token] = Entry(trainer, session_id, owner, label, address, pool)
            self._ensure_sweeper()
        return token

    @contextmanager
    def slot(self, session_id: str | None, label: str = "an evaluation", **caps):
        """Hold a job slot while a job runs in the script thread (raises TrainingCapReached).

        `caps` are register's owner, per_owner, address and per_address."""
        job = _Slot()
        token = self.register(job, session_id, label=label, **caps)
        try:
            yield
        finally:
            job.is_alive = False
            with self._lock:
                self._entries.pop(token, None)

    def sweep(self, now: float | None = None) -> list[str]:
        """Stop the trainings of sessions closed for longer than the grace period.

        Returns the tokens stopped. Called periodically by a daemon thread.
        """
        now = time.monotonic() if now is None else now
        stopped = []
        with self._lock:
            self._prune()
            for token, entry in self._entries.items():
                state = self._is_open(entry.session_id)
                if state is False:
                    entry.closed_since = entry.closed_since or now
                    if now - entry.closed_since >= self.grace_seconds:
                        stopped.append(token)
                else:
                    entry.closed_since = None
            for token in stopped:
                entry = self._entries.pop(token)
                log.info("stopping the training of closed session %s", entry.session_id)
                entry.trainer.stop()
        return stopped

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or not self._sweeper.is_alive():
            self._sweeper = threading.Thread(target=self._sweep_loop, name="seq2seq-sweeper",
                                             daemon=True)
            self._sweeper.start()

    def _sweep_loop(self) -> None:
        while True:
            time.sleep(self.sweep_seconds)
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the sweeper must outlive surprises
                log.exception("session sweep failed")
            with self._lock:
                if not self._entries:
                    self._sweeper = None
                    return

    def stop_all(self) -> None:
        """Stop every training (used by tests and at shutdown)."""
        with self._lock:
            for entry in self._entries.values():
                entry.trainer.stop()
            self._entries.clear()


def _alive(trainer) -> bool:
    return bool(getattr(trainer, "is_alive", False))


REGISTRY = Registry()


def _caps() -> dict:
    """This session's owner and address with the caps that apply to them (none for the
    teacher)."""
    from . import identity
    lim, teacher = limits(), identity.is_teacher()
    return {"owner": identity.owner_id(), "address": identity.address(),
            "per_owner": None if teacher else lim.jobs_per_session,
            "per_address": None if teacher or not lim.jobs_per_address else lim.jobs_per_address}


def start_job(job, label: str, start=None, pool: str = "local") -> str:
    """Start this session's `job` under the caps of its pool (this server's, or the Ray
    cluster's capacity) and the person's ('' or why not)."""
    try:
        REGISTRY.register(job, current_session_id(), start=start, label=label,
                          limit=pool_cap(pool), pool=pool, **_caps())
    except TrainingCapReached as err:
        return str(err)
    return ""


def pool_cap(pool: str) -> int:
    """How many jobs may run at once in a pool: the server's cap, or on Ray at least as
    many as the cluster trains at once (Ray queues the rest for a free worker)."""
    cap = limits().max_trainings
    if pool == "ray":
        from seq2seq_core import executors
        cap = max(cap, executors.ray_executor().capacity().workers)
    return cap


def job_slot(label: str):
    """A slot for a job this session runs in the script thread (an evaluation, a model load)."""
    return REGISTRY.slot(current_session_id(), label, **_caps())
