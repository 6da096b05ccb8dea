"""Trained models kept as files beside their run-history rows, so that a reload or a server
restart can reopen them.

One file per run, `<folder>/<run id>.s2s` (the `persistence` format), written atomically (a
temporary file, then a rename), so a reader never sees half a file. The file name comes
from the integer run id only: nothing a user types or uploads names a file here. Which
files are kept (per person, in total) is the History's decision; this module only stores.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".s2s"
MAX_BYTES = 64 * 1024 * 1024  # the largest model file read or kept


@dataclass(frozen=True)
class KeepModels:
    """How many trained models the History keeps: per person, and in bytes for everyone."""

    per_owner: int = 5
    total_bytes: int = 2048 * 1024 * 1024


class ModelStore:
    """Model files by run id, in one folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, run_id: int) -> Path:
        return self.folder / f"{int(run_id)}{SUFFIX}"

    def write(self, run_id: int, data: bytes) -> int:
        """Store a run's model file (replacing an older one); returns its size in bytes."""
        write_atomic(self.path(run_id), data)
        return len(data)

    def read(self, run_id: int, max_bytes: int) -> bytes | None:
        """A run's model file, or None if none is kept (or it is larger than `max_bytes`)."""
        return read_bounded(self.path(run_id), max_bytes)

    def remove(self, run_id: int) -> None:
        self.path(run_id).unlink(missing_ok=True)


def read_bounded(path: Path, max_bytes: int) -> bytes | None:
    """The file's bytes, or None if it is missing or larger than `max_bytes`."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    return data if len(data) <= max_bytes else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
