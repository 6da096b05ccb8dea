"""Each person's last uploaded sentence-pairs file, kept in the data folder so that a reload
does not lose it.

One file per owner, `<folder>/<owner>.tsv` with the display name beside it; the owner id is
checked to be a plain token before it becomes part of a file name, and the file is read back
with the same size limit as an upload (and parsed like one). Only browser ids are kept (a
session id never comes back after a reload), and the folder holds at most `MAX_TOTAL_BYTES`:
the least recently uploaded files go first, so fresh cookies cannot fill the disk.
"""
from __future__ import annotations

import re
from pathlib import Path

from .corpus import MAX_BYTES as MAX_FILE_BYTES, clean_name
from .model_store import read_bounded, write_atomic

OWNER = re.compile(r"browser-[A-Za-z0-9]{1,56}")
MAX_TOTAL_BYTES = 256 * 1024 * 1024


class KeptUploads:
    """The last pairs file per owner, in one folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _paths(self, owner: str) -> tuple[Path, Path] | None:
        if not isinstance(owner, str) or not OWNER.fullmatch(owner):
            return None
        return self.folder / f"{owner}.tsv", self.folder / f"{owner}.name"

    def keep(self, owner: str, name: str, data: bytes) -> None:
        paths = self._paths(owner)
        if paths is None or len(data) > MAX_FILE_BYTES:
            return
        write_atomic(paths[0], data)
        write_atomic(paths[1], clean_name(name).encode())
        self._trim()

    def _trim(self) -> None:
        """Forget the least recently uploaded files while the folder is over its limit."""
        files = sorted(self.folder.glob("*.tsv"), key=lambda p: p.stat().st_mtime, reverse=True)
        total = 0
        for path in files:
            total += path.stat().st_size
            if total > MAX_TOTAL_BYTES:
                path.unlink(missing_ok=True)
                path.with_suffix(".name").unlink(missing_ok=True)

    def get(self, owner: str) -> tuple[str, bytes] | None:
        """(name, data) of the owner's last upload, or None."""
        paths = self._paths(owner)
        if paths is None:
            return None
        data = read_bounded(paths[0], MAX_FILE_BYTES)
        name = read_bounded(paths[1], 1024)  # a clean_name: 80 characters at most
        if data is None or name is None:
            return None
        return name.decode(errors="replace"), data

    def forget(self, owner: str) -> None:
        if (paths := self._paths(owner)) is not None:
            for path in paths:
                path.unlink(missing_ok=True)
