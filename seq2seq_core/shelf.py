"""The model shelf: models kept by name in the data folder, ready to open in one click.

A teacher trains a big model the night before (here, or on a cluster with `train
--save-to-shelf NAME`) and opens it in class without waiting. Each entry is two files in
`<data folder>/shelf/`: `NAME.s2s` (the `persistence` format) and `NAME.json`, a small
sidecar with what the list shows (task, settings, accuracy, date). Files rather than a
SQLite table, so that an entry made on another machine is copied in with its two files
and removed with them, and a damaged sidecar costs only its own entry.

Everything here is as untrusted as an upload: a name is a short slug checked before it
names a file (NAME_RULE); a sidecar is read with its size bounded and every field checked,
and one that is malformed, oversized, a link, or names a file is skipped with the reason;
a model is loaded through `persistence.from_bytes` with its size capped. Writes are atomic
(the model file first, then its sidecar, which makes the entry visible).

Each entry records its owner (the browser that saved it; None from the command line), the
same model as the run history: the teacher (`by=None`) may replace or remove any entry,
anyone else only their own, and keeps at most `per_owner` entries, so one person cannot
fill the shelf. An owner is a short plain id, checked like a name; it never names a file.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import ModelConfig, TrainConfig, from_json
from .errors import InvalidInput
from .explain import describe_model, run_name
from .history import data_dir
from .model_store import MAX_BYTES, SUFFIX, read_bounded, write_atomic
from .persistence import from_bytes, to_bytes, untrusted_json
from .tasks import REGISTRY, TaskSettings, settings_for

try:  # a lock across processes (the app and the CLI) where the system has one
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None

SHELF_DIR = "shelf"
FORMAT = "seq2seq-lab-shelf/1"
SIDECAR = ".json"
MAX_NAME = 40
MAX_ENTRIES = 50
MAX_TOTAL_BYTES = 2048 * 1024 * 1024
MAX_SIDECAR_BYTES = 64 * 1024
MAX_SCAN = 1000        # folder entries looked at when listing: a flooded folder stays cheap
MAX_TITLE = 100
MAX_SAMPLES = 10**12
PER_OWNER = 3          # entries one person (not the teacher) may keep on the shelf
MAX_OWNER = 64
NAME_RULE = (f"1 to {MAX_NAME} characters: letters a-z, digits 0-9, '-' and '_', starting "
             "with a letter or digit (capitals become lowercase), e.g. 'french-256'")
_SLUG = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_NAME - 1}}}")
_OWNER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_OWNER - 1}}}")
_RESERVED = {"con", "prn", "aux", "nul", *(f"{p}{i}" for p in ("com", "lpt") for i in range(10))}
KEYS = {"format", "name", "task", "title", "settings", "model_config", "train_config",
        "exact_match", "samples_seen", "params", "saved", "owner"}
_LOCK = threading.Lock()
_AS_OWNER = object()  # `save(by=...)` left out: the saver is the entry's owner


def check_name(name) -> str:
    """The slug a typed shelf name stands for; InvalidInput saying what is allowed if it is
    not one. Nothing but this slug ever names a shelf file."""
    if not isinstance(name, str):
        raise InvalidInput(f"A shelf name must be text: {NAME_RULE}.")
    slug = name.strip()
    if slug.isascii():
        slug = slug.lower()
    if not _is_slug(slug):
        shown = repr(name[:MAX_NAME + 5]) + ("…" if len(name) > MAX_NAME + 5 else "")
        raise InvalidInput(f"{shown} cannot be a shelf name. A shelf name is {NAME_RULE}.")
    return slug


def _is_slug(text: str) -> bool:
    return bool(_SLUG.fullmatch(text)) and text not in _RESERVED


def check_owner(owner) -> str | None:
    """An owner id as given (None: saved from the command line); InvalidInput if it is not
    a short plain id (1 to MAX_OWNER letters, digits, '-' and '_')."""
    if owner is None or (isinstance(owner, str) and _OWNER.fullmatch(owner)):
        return owner
    raise InvalidInput(f"An owner is an id of 1 to {MAX_OWNER} letters, digits, '-' and '_'.")


def may_change(owner: str | None, by: str | None) -> bool:
    """Whether `by` (None: the teacher) may replace or remove an entry saved by `owner`:
    the teacher any entry, anyone else only their own (never one without an owner)."""
    return by is None or (owner is not None and owner == by)


@dataclass(frozen=True)
class ShelfEntry:
    """One model on the shelf, as its sidecar describes it (size: of its model file)."""

    name: str
    task: str
    title: str
    settings: TaskSettings
    model_config: ModelConfig
    train_config: TrainConfig | None
    exact_match: float | None
    samples_seen: int | None
    params: int
    saved: datetime
    size_bytes: int
    owner: str | None = None  # the browser that saved it; None: the command line

    def managed_by(self, by: str | None) -> bool:
        """Whether `by` (None: the teacher) may replace or remove this entry."""
        return may_change(self.owner, by)

    @property
    def description(self) -> str:
        """The network in words ('attention (bahdanau), LSTM 256')."""
        return describe_model(self.model_config)

    @property
    def summary(self) -> str:
        """Task, the settings that differ from the defaults, network and training."""
        return run_name(self.task, self.settings, self.model_config, self.train_config)


@dataclass(frozen=True)
class Skipped:
    """A shelf entry that cannot be listed, and why (its name is a valid slug)."""

    name: str
    reason: str


@dataclass(frozen=True)
class Listing:
    """What the shelf holds: readable entries newest first, and the ones skipped."""

    entries: tuple[ShelfEntry, ...]
    skipped: tuple[Skipped, ...]


class Shelf:
    """Named models in one folder (default: `shelf/` in the lab's data folder)."""

    def __init__(self, folder=None, max_entries: int = MAX_ENTRIES,
                 max_total_bytes: int = MAX_TOTAL_BYTES, per_owner: int = PER_OWNER):
        self.folder = Path(folder) if folder is not None else data_dir() / SHELF_DIR
        self.max_entries = max_entries
        self.max_total_bytes = max_total_bytes
        self.per_owner = per_owner

    def _model_path(self, slug: str) -> Path:
        return self.folder / f"{slug}{SUFFIX}"

    def _sidecar_path(self, slug: str) -> Path:
        return self.folder / f"{slug}{SIDECAR}"

    # ---- listing --------------------------------------------------------------------------
    def names(self) -> tuple[str, ...]:
        """The slugs with a sidecar or a model file here (at most MAX_SCAN files looked at)."""
        found = set()
        try:
            with os.scandir(self.folder) as it:
                for i, item in enumerate(it):
                    if i >= MAX_SCAN:
                        break
                    stem, dot, ext = item.name.rpartition(".")
                    if dot and f".{ext}" in (SUFFIX, SIDECAR) and _is_slug(stem):
                        found.add(stem)
        except FileNotFoundError:
            return ()
        except OSError as err:
            raise InvalidInput(f"The shelf folder cannot be read ({err.strerror}).") from None
        return tuple(sorted(found))

    def listing(self) -> Listing:
        """Every entry, read and checked: the good ones newest first, the rest skipped."""
        good, skipped = [], []
        for slug in self.names():
            try:
                good.append(self._read_entry(slug))
            except InvalidInput as err:
                skipped.append(Skipped(slug, str(err)))
        good.sort(key=lambda e: (e.saved, e.name), reverse=True)
        return Listing(tuple(good), tuple(skipped))

    def entries(self) -> tuple[ShelfEntry, ...]:
        """The readable entries, newest first."""
        return self.listing().entries

    def entry(self, name) -> ShelfEntry:
        """One entry by name; InvalidInput if there is none or it cannot be read."""
        return self._read_entry(self._existing(name))

    def _read_entry(self, slug: str) -> ShelfEntry:
        size = _regular_size(self._model_path(slug), "Its model file")
        if size > MAX_BYTES:
            raise _too_large("Its model file", size)
        path = self._sidecar_path(slug)
        if _regular_size(path, "Its description") > MAX_SIDECAR_BYTES:
            raise InvalidInput(f"Its description is larger than {MAX_SIDECAR_BYTES // 1024} KB.")
        raw = read_bounded(path, MAX_SIDECAR_BYTES)
        if raw is None:
            raise InvalidInput("Its description could not be read.")
        return _entry_from(slug, _parse(raw), size)

    # ---- saving and removing --------------------------------------------------------------
    def check_room(self, name, replace: bool = False, by: str | None = None) -> str:
        """The slug for `name` if `by` (None: the teacher or the command line) may save a
        model under it now (before training, so a typo or a full shelf costs nothing);
        InvalidInput says why not."""
        slug = check_name(name)
        names = self.names()
        if slug in names:
            refused = self._refusal(slug, by, "replace")
            if not replace:
                raise InvalidInput(f"There is already a model named '{slug}' on the shelf: "
                                   "choose another name" + ("." if refused else
                                                            ", or replace it."))
            if refused:
                raise InvalidInput(refused)
            return slug
        if len(names) >= self.max_entries:
            raise InvalidInput(f"The shelf is full: it holds at most {self.max_entries} models. "
                               "Remove one first.")
        mine = 0 if by is None else sum(e.owner == by for e in self.entries())
        if mine >= self.per_owner:
            raise InvalidInput(f"You have {mine} models on the shelf; remove one first (each "
                               f"person may keep {self.per_owner}).")
        return slug

    def save(self, model, name, *, exact_match: float | None = None,
             samples_seen: int | None = None, train_config: TrainConfig | None = None,
             replace: bool = False, owner: str | None = None, by=_AS_OWNER) -> ShelfEntry:
        """Put `model` on the shelf as `name`, saved by `owner` (a browser's id; None: the
        command line); returns its entry. An entry of that name is replaced only with
        `replace` and only if `by` may change it; `by` is who saves (None: the teacher, who
        may replace any entry and keeps any number); left out, it is `owner`. InvalidInput
        says why it cannot be saved."""
        owner = check_owner(owner)
        by = owner if by is _AS_OWNER else check_owner(by)
        if by is not None and by != owner:
            raise InvalidInput("Only the teacher can save a model for someone else.")
        slug = self.check_room(name, replace, by)  # before the file is made: that takes a while
        meta = _sidecar(slug, model, exact_match, samples_seen, train_config, owner)
        data = to_bytes(model)
        if len(data) > MAX_BYTES:
            raise _too_large("The model file", len(data))
        with self._locked():
            self.check_room(slug, replace, by)
            others = sum(self._size(s) for s in self.names() if s != slug)
            if others + len(data) > self.max_total_bytes:
                raise InvalidInput(
                    f"The shelf holds {others / 1e6:,.0f} MB; this model's "
                    f"{len(data) / 1e6:,.1f} MB would pass its limit of "
                    f"{self.max_total_bytes / 1e6:,.0f} MB. Remove a model first.")
            write_atomic(self._model_path(slug), data)
            write_atomic(self._sidecar_path(slug), json.dumps(meta, indent=1).encode())
        return self.entry(slug)

    def remove(self, name, by: str | None = None) -> None:
        """Take an entry off the shelf, if `by` may: None (the teacher) any entry, readable
        or not; an owner id only a readable one they saved. InvalidInput says why not."""
        by = check_owner(by)
        with self._locked():
            slug = self._existing(name)
            if refused := self._refusal(slug, by, "remove"):
                raise InvalidInput(refused)
            self._sidecar_path(slug).unlink(missing_ok=True)  # first: the entry disappears
            self._model_path(slug).unlink(missing_ok=True)

    def _refusal(self, slug: str, by: str | None, action: str) -> str:
        """Why `by` may not `action` the existing entry `slug` ('' if they may)."""
        if by is None:
            return ""
        try:
            owner = self._read_entry(slug).owner
        except InvalidInput:
            return f"'{slug}' cannot be read, so only the teacher can {action} it."
        if may_change(owner, by):
            return ""
        if owner is None:
            return (f"'{slug}' was saved from the command line: only the teacher can "
                    f"{action} it.")
        return (f"'{slug}' is not yours: only the person who saved it, or the teacher, can "
                f"{action} it.")

    def load(self, name, max_params: int | None = None):
        """The entry's model, read as untrusted as an upload (size-capped, through
        `persistence.from_bytes`); ModelFileError or InvalidInput say what is wrong."""
        slug = self._existing(name)
        path = self._model_path(slug)
        size = _regular_size(path, f"The model file of '{slug}'")
        data = read_bounded(path, MAX_BYTES)
        if data is None:
            raise _too_large(f"The model file of '{slug}'", size)
        return from_bytes(data, max_params=max_params)

    def _existing(self, name) -> str:
        slug = check_name(name)
        if not any(os.path.lexists(p) for p in (self._sidecar_path(slug),
                                                 self._model_path(slug))):
            raise InvalidInput(f"There is no model named '{slug}' on the shelf (it may have "
                               "been removed).")
        return slug

    def _size(self, slug: str) -> int:
        try:
            return self._model_path(slug).lstat().st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def _locked(self):
        """One writer at a time: threads of this process, and other processes where the
        system can lock a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            if fcntl is None:
                yield
                return
            with open(self.folder / ".lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)


# ---- the sidecar: written from a model, read back like user input -------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _sidecar(slug: str, model, exact_match, samples_seen, train_config, owner) -> dict:
    """The sidecar of a model about to be saved; its facts are checked like a read one's."""
    task = model.task
    meta = {"format": FORMAT, "name": slug, "task": task.name, "title": task.title,
            "settings": asdict(task.settings), "model_config": asdict(model.config),
            "train_config": None if train_config is None else asdict(train_config),
            "exact_match": None if exact_match is None else float(exact_match),
            "samples_seen": None if samples_seen is None else int(samples_seen),
            "params": int(model.count_params()), "saved": _now(), "owner": owner}
    _entry_from(slug, meta, 0)
    return meta


def _regular_size(path: Path, what: str) -> int:
    """The size of a plain file (never a link, which could point anywhere); `what` names it
    in messages ("Its model file")."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise InvalidInput(f"{what} is missing.") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{what} is not a plain file (a link or a folder); refused.")
    return info.st_size


def _too_large(what: str, size: int) -> InvalidInput:
    return InvalidInput(f"{what} is {size / 1e6:,.0f} MB; the most a shelf model may be is "
                        f"{MAX_BYTES / 1e6:,.0f} MB.")


def _parse(raw: bytes) -> dict:
    meta = untrusted_json(raw, "Its description", InvalidInput)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InvalidInput(f"Its description is not a shelf entry ({FORMAT}).")
    unknown = sorted(str(k)[:40] for k in set(meta) - KEYS)
    if unknown:
        raise InvalidInput(f"Its description holds unknown fields ({', '.join(unknown[:5])}); "
                           "refused.")
    return meta


def _entry_from(slug: str, meta: dict, size: int) -> ShelfEntry:
    """A checked entry from a parsed sidecar: every field of the right kind and range."""
    if meta.get("name") != slug:
        raise InvalidInput("Its description is for another entry.")
    task, title = meta.get("task"), meta.get("title")
    if not isinstance(task, str) or task not in REGISTRY:
        raise InvalidInput(f"It names an unknown task; tasks are: {', '.join(REGISTRY)}.")
    if not isinstance(title, str) or not 0 < len(title) <= MAX_TITLE:
        raise InvalidInput(f"Its task title is not text of at most {MAX_TITLE} characters.")
    raw_train = meta.get("train_config")
    raw = (_mapping(meta, "settings"), _mapping(meta, "model_config"),
           None if raw_train is None else _mapping(meta, "train_config"))
    try:
        settings = settings_for(task, **from_json(raw[0]))
        model_config = ModelConfig(**from_json(raw[1]))
        train_config = None if raw[2] is None else TrainConfig(**from_json(raw[2]))
    except TypeError:
        raise InvalidInput("Its settings hold unknown fields.") from None
    except InvalidInput as err:
        raise InvalidInput(f"Its settings are not valid: {err}") from None
    return ShelfEntry(slug, task, title, settings, model_config, train_config,
                      _optional_share(meta.get("exact_match")),
                      _optional_count(meta.get("samples_seen"), MAX_SAMPLES, "samples trained"),
                      _count(meta.get("params"), 10**10, "parameter count"),
                      _saved(meta.get("saved")), size, _owner(meta.get("owner")))


def _owner(value) -> str | None:
    """A sidecar's owner: absent or null in older ones (the command line's), else an id."""
    try:
        return check_owner(value)
    except InvalidInput:
        raise InvalidInput("Its owner is not a plain id.") from None


def _mapping(meta: dict, key: str) -> dict:
    value = meta.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(f"Its {key.replace('_', ' ')} is missing.")
    return value


def _optional_share(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value <= 1:
        raise InvalidInput("Its exact match is not a share between 0 and 1.")
    return float(value)


def _count(value, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise InvalidInput(f"Its {what} is not a whole number between 0 and {high:,}.")
    return value


def _optional_count(value, high: int, what: str) -> int | None:
    return None if value is None else _count(value, high, what)


def _saved(value) -> datetime:
    try:
        saved = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 \
            else None
    except ValueError:
        saved = None
    if saved is None:
        raise InvalidInput("Its date saved is not a date.")
    return saved if saved.tzinfo else saved.replace(tzinfo=timezone.utc)
