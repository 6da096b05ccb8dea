"""Reading untrusted zip archives with every size bounded before the bytes are read.

A zip's central directory declares each member's size; Python's `zipfile` never inflates a
member past its declared size (it fails the CRC check instead), so checking the declared
sizes, the compression ratio and the member names first bounds memory and disk. Reads are
streamed with a byte limit as well, so a lying header costs no more than the limit.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import ModelFileError

CHUNK = 1 << 20
# Above this declared size a member must not inflate more than MAX_RATIO times.
RATIO_FLOOR = 1 << 20
MAX_RATIO = 100
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass(frozen=True)
class Member:
    """A member the archive must hold, and the most bytes it may inflate to."""

    name: str
    max_bytes: int


def open_archive(source: str | Path | BinaryIO, what: str) -> zipfile.ZipFile:
    """A ZipFile over bytes or a file; ModelFileError if it is not a zip."""
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ModelFileError(f"{what} is not a zip archive, so it is not a seq2seq-lab "
                             "model.") from None


def check_members(zf: zipfile.ZipFile, members: tuple[Member, ...], what: str) -> None:
    """Exactly the expected members, each within its size and ratio, plainly stored.

    Refuses extra or repeated names (a path like '../x' is simply not an expected name),
    encrypted members and compression methods other than stored/deflated.
    """
    infos = zf.infolist()
    names = [i.filename for i in infos]
    expected = {m.name: m for m in members}
    if len(names) != len(set(names)):
        raise ModelFileError(f"{what} holds the same name twice; it was not written by "
                             "seq2seq-lab.")
    extra = sorted(set(names) - set(expected))
    if extra:
        shown = ", ".join(repr(n[:60]) for n in extra[:3])
        raise ModelFileError(f"{what} holds unexpected files ({shown}); it should hold only "
                             f"{', '.join(expected)}.")
    missing = [n for n in expected if n not in names]
    if missing:
        raise ModelFileError(f"{what} lacks {' and '.join(missing)}; it is not a "
                             "seq2seq-lab model.")
    for info in infos:
        _check_info(info, expected[info.filename].max_bytes, what)


def _check_info(info: zipfile.ZipInfo, max_bytes: int, what: str) -> None:
    where = f"{what}: {info.filename}"
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{where} is encrypted.")
    if info.compress_type not in METHODS:
        raise ModelFileError(f"{where} uses an unsupported compression.")
    if info.file_size > max_bytes:
        raise ModelFileError(f"{where} inflates to {_mb(info.file_size)}; the most allowed "
                             f"is {_mb(max_bytes)}.")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ModelFileError(f"{where} inflates {info.file_size // max(info.compress_size, 1):,} "
                             f"times (from {_mb(info.compress_size)} to {_mb(info.file_size)}), "
                             f"more than the {MAX_RATIO} times a real model does: refused as a "
                             "zip bomb.")


def read_member(zf: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """A member's bytes, never more than `max_bytes` (checked while streaming)."""
    with zf.open(name) as src:
        data = src.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ModelFileError(f"{name} is larger than the {_mb(max_bytes)} allowed.")
    return data


def extract_member(zf: zipfile.ZipFile, name: str, dest: Path, max_bytes: int) -> Path:
    """Stream a member to `dest` (a path of our choosing), stopping at `max_bytes`."""
    written = 0
    with zf.open(name) as src, open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise ModelFileError(f"{name} is larger than the {_mb(max_bytes)} allowed.")
            out.write(chunk)
    return dest


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"
