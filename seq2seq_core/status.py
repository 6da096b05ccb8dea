"""The states a training run, a job runner (study, sweep) and a sweep's cell can be in.

Both enums are StrEnums: a member equals its string, so the run history, saved results and
pages that hold plain strings ("stopped") keep working. The sets below are the facts pages
and the history rely on, each written once; they hold members, so `"paused" in ACTIVE` works
for strings read back from SQLite too.
"""
from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """Where a Trainer or JobRunner stands; also a run's status in the History."""

    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Training or paused: it holds a training slot and can go on (see ACTIVE)."""
        return self in ACTIVE

    @property
    def ended(self) -> bool:
        """Finished, stopped or failed: it will not train again (see ENDED)."""
        return self in ENDED

    @property
    def keeps_model(self) -> bool:
        """Ended with a usable model: finished or stopped (see KEEPS_MODEL)."""
        return self in KEEPS_MODEL


ACTIVE = frozenset({Status.RUNNING, Status.PAUSED})
ENDED = frozenset({Status.FINISHED, Status.STOPPED, Status.FAILED})
KEEPS_MODEL = frozenset({Status.FINISHED, Status.STOPPED})


class CellStatus(enum.StrEnum):
    """A sweep cell's state in its results; only FINISHED cells carry metrics."""

    FINISHED = "finished"
    CUT_SHORT = "cut short"  # its run was stopped
    FAILED = "failed"
    PENDING = "pending"  # its run has not ended yet
    NOT_RUN = "not run"  # the sweep ended before it

    @classmethod
    def of(cls, status: str) -> CellStatus:
        """The state of a cell whose run has `status` (a Status or its string)."""
        return _CELL_OF[Status(status)]


_CELL_OF = {Status.FINISHED: CellStatus.FINISHED, Status.STOPPED: CellStatus.CUT_SHORT,
            Status.FAILED: CellStatus.FAILED, Status.READY: CellStatus.PENDING,
            Status.RUNNING: CellStatus.PENDING, Status.PAUSED: CellStatus.PENDING}
