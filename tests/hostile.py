"""Builders of hostile model files and uploads, made at test time (nothing hostile is committed).

Each takes a real `.s2s` file apart and puts it back together with one thing changed, so a
test says exactly which part of the file is the attack.
"""
from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np

ZEROS = bytes(1 << 20)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def pack(items, method=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, bytes) pairs, in order (names may repeat)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", method) as zf:
        warnings.simplefilter("ignore")  # a repeated name is the point of some attacks
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


def lab(data: bytes) -> dict:
    return json.loads(members(data)["lab.json"])


def with_lab(data: bytes, meta=None, raw: bytes | str | None = None) -> bytes:
    """The model file with its lab.json replaced by `meta` (a dict) or `raw` text."""
    parts = members(data)
    text = raw if raw is not None else json.dumps(meta)
    return pack([("lab.json", text if isinstance(text, bytes) else text.encode()),
                 ("model.keras", parts["model.keras"])])


def with_keras(data: bytes, config=None, weights: bytes | None = None, extra=()) -> bytes:
    """The model file with its inner Keras zip changed: config.json, weights, extra members."""
    parts = members(data)
    inner = members(parts["model.keras"])
    if config is not None:
        inner["config.json"] = json.dumps(config).encode()
    if weights is not None:
        inner["model.weights.h5"] = weights
    keras = pack(list(inner.items()) + list(extra), zipfile.ZIP_STORED)
    return pack([("lab.json", parts["lab.json"]), ("model.keras", keras)])


def keras_config(data: bytes) -> dict:
    return json.loads(members(members(data)["model.keras"])["config.json"])


def weights(data: bytes) -> bytes:
    return members(members(data)["model.keras"])["model.weights.h5"]


def bomb(path: Path, name: str, megabytes: int, head: bytes = b"", others=()) -> Path:
    """A zip whose member `name` inflates to `megabytes` MB (mostly zeros) from about 1 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for other, content in others:
            zf.writestr(other, content)
        with zf.open(name, "w", force_zip64=True) as out:
            out.write(head)
            for _ in range(megabytes):
                out.write(ZEROS)
    return path


def lying_size(data: bytes, name: str, declared: int) -> bytes:
    """The zip with the central directory claiming `declared` bytes for `name`."""
    buf = bytearray(data)
    key = name.encode()
    at = 0
    while True:
        at = buf.find(b"PK\x01\x02", at)
        if at < 0:
            raise ValueError(name)
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if bytes(buf[at + 46:at + 46 + name_len]) == key:
            struct.pack_into("<I", buf, at + 24, declared)
            return bytes(buf)
        at += 4


def h5_file(build) -> bytes:
    """An HDF5 file made by `build(h5file)`, as bytes."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        build(h5)
    return buf.getvalue()


def h5_bomb(h5) -> None:
    """A dataset that declares 1,000 million floats, stored compressed in a few KB."""
    h5.create_dataset("layers/lstm/cell/vars/0", shape=(1_000_000_000,), dtype="f4",
                      chunks=(1_000_000,), compression="gzip", fillvalue=0.0)


def h5_external(path: Path):
    """A dataset whose values are read from a file on the server."""
    def build(h5) -> None:
        h5.create_dataset("layers/lstm/cell/vars/0", shape=(16,), dtype="u1",
                          external=[(str(path), 0, 16)])
    return build


def h5_link(path: Path):
    def build(h5) -> None:
        h5["layers"] = h5py.ExternalLink(str(path), "/")
    return build


def h5_ints(h5) -> None:
    h5.create_dataset("layers/lstm/cell/vars/0", data=np.arange(10, dtype="i8"))


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth
