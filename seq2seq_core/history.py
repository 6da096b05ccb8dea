"""Run history: every training run, its settings and curves, in a local SQLite database.

Why SQLite: it survives restarts, needs no server, and handles writes from several app
sessions (threads) and processes at once. Each call opens its own short-lived connection
(so threads never share one), the database runs in WAL mode (readers never block the
writer), and every write is one `BEGIN IMMEDIATE` transaction with a busy timeout.

This module imports neither Keras nor streamlit, so opening the history is cheap.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .config import ModelConfig, TrainConfig, from_json
from .errors import InvalidInput
from .explain import run_name
from .model_store import MAX_BYTES as MAX_MODEL_BYTES, KeepModels, ModelStore
from .status import ACTIVE, ENDED, KEEPS_MODEL, Status
from .tasks import TaskSettings, settings_for

DATA_ENV = "SEQ2SEQ_LAB_DATA"
DB_NAME = "history.sqlite3"
MODELS_DIR = "models"
SCHEMA_VERSION = 6
BUSY_TIMEOUT_S = 30.0
MAX_NAME = 100
# A running run that no process has written for this long is taken to be abandoned (its
# server stopped), so its owner or the teacher may delete it.
STALE_SECONDS = 15 * 60
log = logging.getLogger(__name__)
LOST = ("This run's entry in the run history was removed while it trained: training goes on, "
        "but it is no longer recorded.")

RUN_COLUMNS = ["id", "name", "task", "arch", "cell", "units", "layers", "params", "exact_match",
               "token_accuracy", "chrf", "bleu", "train_seconds", "samples_seen",
               "samples_per_second", "status",
               "created", "reason", "sweep_id", "chunks", "owner", "updated", "model_bytes",
               "device"]
CURVE_COLUMNS = ["run_id", "name", "chunk", "samples_seen", "train_seconds", "train_loss",
                 "val_loss", "token_accuracy", "val_token_accuracy", "exact_match",
                 "samples_per_second", "chrf", "bleu"]
CHUNK_FIELDS = ("chunk", "samples_seen", "train_seconds", "batch_losses", "batch_accuracies",
                "train_loss", "token_accuracy", "val_loss", "val_token_accuracy", "exact_match",
                "samples_per_second")
# Newer chunk fields: optional in a record, absent from older databases' rows.
CHUNK_EXTRAS = {"scored": ("INTEGER", 0), "eval_seconds": ("REAL", 0.0), "compiler": ("TEXT", ""),
                "position_accuracy": ("TEXT", ()), "chrf": ("REAL", None), "bleu": ("REAL", None)}
# Chunk fields stored as JSON lists of numbers (None for NaN), read back as tuples.
CHUNK_LISTS = ("batch_losses", "batch_accuracies", "position_accuracy")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    settings TEXT NOT NULL,
    model_config TEXT NOT NULL,
    train_config TEXT NOT NULL,
    arch TEXT, cell TEXT, units INTEGER, layers INTEGER, params INTEGER,
    exact_match REAL, token_accuracy REAL, chrf REAL, bleu REAL,
    train_seconds REAL NOT NULL DEFAULT 0, samples_seen INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
    sweep_id TEXT, created TEXT NOT NULL, owner TEXT, updated TEXT, model_bytes INTEGER,
    device TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    samples_seen INTEGER, train_seconds REAL, train_loss REAL, token_accuracy REAL,
    val_loss REAL, val_token_accuracy REAL, exact_match REAL, samples_per_second REAL,
    batch_losses TEXT, batch_accuracies TEXT, scored INTEGER, eval_seconds REAL, compiler TEXT,
    position_accuracy TEXT, chrf REAL, bleu REAL,
    PRIMARY KEY (run_id, chunk)
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    tag TEXT NOT NULL,
    config TEXT NOT NULL,
    rows TEXT NOT NULL,
    created TEXT NOT NULL
);
"""
# Columns added after version 1, for databases made by an older version.
ADDED_COLUMNS = {"owner": "TEXT", "updated": "TEXT", "model_bytes": "INTEGER", "device": "TEXT",
                 "chrf": "REAL", "bleu": "REAL"}


def data_dir() -> Path:
    """`$SEQ2SEQ_LAB_DATA`, or `~/.seq2seq-lab`; created if missing."""
    path = Path(os.environ.get(DATA_ENV) or Path.home() / ".seq2seq-lab").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_path() -> Path:
    return data_dir() / DB_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _as_dict(obj) -> dict:
    if obj is None:
        return {}
    if is_dataclass(obj):
        return asdict(obj)
    return dict(obj)


def _chunk_dict(record) -> dict:
    """A ChunkRecord (or a dict with its fields) as a plain dict."""
    data = asdict(record) if is_dataclass(record) else dict(record)
    missing = [f for f in CHUNK_FIELDS if f not in data]
    if missing:
        raise InvalidInput(f"A chunk record lacks {', '.join(missing)}.")
    return data


@dataclass(frozen=True)
class RunInfo:
    """One stored run with its configuration rebuilt as the dataclasses that made it.

    `chunks` are `seq2seq_core.training.ChunkRecord`s, oldest first.
    """

    id: int
    name: str
    task: str
    settings: TaskSettings
    model_config: ModelConfig
    train_config: TrainConfig
    params: int | None
    exact_match: float | None
    token_accuracy: float | None
    train_seconds: float
    samples_seen: int
    status: str
    reason: str
    error: str
    sweep_id: str | None
    created: str
    chunks: tuple
    owner: str | None = None
    device: str = ""  # where it trained (empty for runs recorded before devices were)


class History:
    """The run history in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            with self._write(db):
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                have = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
                for column, kind in ADDED_COLUMNS.items():
                    if column not in have:
                        db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
                have = {r["name"] for r in db.execute("PRAGMA table_info(chunks)")}
                for column, (kind, _) in CHUNK_EXTRAS.items():
                    if column not in have:
                        db.execute(f"ALTER TABLE chunks ADD COLUMN {column} {kind}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._live: set[int] = set()
        self._live_lock = threading.Lock()
        self.models = ModelStore(self.path.parent / MODELS_DIR)

    # ---- connections -------------------------------------------------------------------
    @contextmanager
    def _connect(self):
        """A fresh connection for this call only (threads never share connections)."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self, db):
        """One write transaction; takes the write lock up front so it never deadlocks."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ---- writing ------------------------------------------------------------------------
    def start_run(self, task_name: str, settings, model_config: ModelConfig,
                  train_config: TrainConfig, name: str | None = None, params: int | None = None,
                  sweep_id: str | None = None, owner: str | None = None) -> int:
        """Add a run with status RUNNING (visible at once) and return its id.

        `owner` identifies who may rename or delete it (a browser, see ui.identity); a run
        without an owner (command line, older databases) is managed by the teacher only.
        """
        model = _as_dict(model_config)
        row = {"name": "", "task": task_name, "settings": json.dumps(_as_dict(settings)),
               "model_config": json.dumps(model), "train_config": json.dumps(_as_dict(train_config)),
               "arch": model.get("arch"), "cell": model.get("cell"), "units": model.get("units"),
               "layers": model.get("layers"), "params": params, "status": Status.RUNNING,
               "sweep_id": sweep_id, "created": _now(), "owner": owner, "updated": _now()}
        with self._connect() as db, self._write(db):
            cur = db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES "
                             f"({', '.join('?' * len(row))})", tuple(row.values()))
            run_id = int(cur.lastrowid)
            label = name.strip() if name and name.strip() else \
                f"#{run_id} " + _default_name(task_name, settings, model_config, train_config)
            db.execute("UPDATE runs SET name=? WHERE id=?", (label[:MAX_NAME], run_id))
        return run_id

    def add_chunk(self, run_id: int, record) -> None:
        """Store one chunk's record (a ChunkRecord or dict); re-adding a chunk replaces it."""
        data = _chunk_dict(record)
        values = {k: data[k] for k in CHUNK_FIELDS}
        values.update({k: data.get(k, empty) for k, (_, empty) in CHUNK_EXTRAS.items()})
        for key in CHUNK_LISTS:
            values[key] = json.dumps([None if x != x else x for x in values[key]])
        with self._connect() as db, self._write(db):
            db.execute(f"INSERT OR REPLACE INTO chunks (run_id, {', '.join(values)}) VALUES "
                       f"(?, {', '.join('?' * len(values))})", (run_id, *values.values()))
            db.execute("UPDATE runs SET exact_match=?, token_accuracy=?, chrf=?, bleu=?, "
                       "train_seconds=?, samples_seen=?, updated=? WHERE id=? AND ? >= "
                       "(SELECT MAX(chunk) FROM chunks WHERE run_id=?)",
                       (data["exact_match"], data["val_token_accuracy"], data.get("chrf"),
                        data.get("bleu"), data["train_seconds"], data["samples_seen"], _now(),
                        run_id, data["chunk"], run_id))

    def set_status(self, run_id: int, status: str, reason: str = "", error: str = "",
                   exact_match: float | None = None, token_accuracy: float | None = None) -> None:
        """Update a run's status; final metrics, when given, override the last chunk's."""
        sets, args = ["status=?", "reason=?", "error=?", "updated=?"], [status, reason, error, _now()]
        for column, value in (("exact_match", exact_match), ("token_accuracy", token_accuracy)):
            if value is not None:
                sets.append(f"{column}=?")
                args.append(float(value))
        with self._connect() as db, self._write(db):
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))

    def set_device(self, run_id: int, device: str) -> None:
        """Where the run trains ("CPU (2 cores) on host", "GPU: ... on host")."""
        with self._connect() as db, self._write(db):
            db.execute("UPDATE runs SET device=? WHERE id=?", (str(device)[:MAX_NAME], run_id))

    def finish_run(self, run_id: int, status: str = Status.FINISHED, reason: str = "",
                   error: str = "", exact_match: float | None = None,
                   token_accuracy: float | None = None) -> None:
        """Mark a run as ended (one of ENDED: finished, stopped or failed)."""
        if status not in ENDED:
            ends = ", ".join(s for s in Status if s in ENDED)
            raise InvalidInput(f"A run ends as one of {ends}; got {status!r}.")
        self.set_status(run_id, status, reason, error, exact_match, token_accuracy)

    def record_run(self, task_name: str, settings, model_config: ModelConfig,
                   train_config: TrainConfig, chunks=(), status: str = Status.FINISHED,
                   reason: str = "", name: str | None = None, params: int | None = None,
                   sweep_id: str | None = None, owner: str | None = None) -> int:
        """Store a whole, already finished run at once; returns its id."""
        run_id = self.start_run(task_name, settings, model_config, train_config, name, params,
                                sweep_id, owner)
        for record in chunks:
            self.add_chunk(run_id, record)
        self.finish_run(run_id, status, reason)
        return run_id

    def track(self, trainer, name: str | None = None, sweep_id: str | None = None,
              owner: str | None = None, keep: KeepModels | None = None) -> "RunRecorder":
        """Start recording a Trainer's run; see RunRecorder. With `keep`, the trained model
        is kept beside the row when the run finishes or is stopped (see `keep_model`)."""
        return RunRecorder(self, trainer, name, sweep_id, owner, keep)

    # ---- trained models -----------------------------------------------------------------
    def keep_model(self, run_id: int, data: bytes, keep: KeepModels) -> list[int]:
        """Keep a run's trained model (its `.s2s` bytes) beside its row, then forget models:
        the oldest of that run's owner beyond `keep.per_owner`, and, while everyone's
        together exceed `keep.total_bytes`, the oldest of whoever keeps the most bytes (so
        one person cannot push out the class's models). Returns the runs whose models were
        removed (this run's own id if even it could not stay)."""
        if len(data) > MAX_MODEL_BYTES:
            raise InvalidInput(f"A model file of {len(data) / 1e6:.0f} MB is too large to keep.")
        size = self.models.write(run_id, data)
        try:
            with self._connect() as db, self._write(db):
                row = db.execute("SELECT owner FROM runs WHERE id=?", (run_id,)).fetchone()
                if row is None:  # deleted while it was being saved
                    drop = [run_id]
                else:
                    db.execute("UPDATE runs SET model_bytes=? WHERE id=?", (size, run_id))
                    kept = db.execute("SELECT id, owner, model_bytes FROM runs WHERE "
                                      "model_bytes IS NOT NULL ORDER BY id").fetchall()
                    drop = _to_forget(kept, row["owner"], keep)
                if drop:
                    db.execute(f"UPDATE runs SET model_bytes=NULL WHERE id IN "
                               f"({', '.join('?' * len(drop))})", tuple(drop))
        except BaseException:
            self.models.remove(run_id)  # never a file that no row counts
            raise
        for gone in drop:
            self.models.remove(gone)
        return drop

    def model_file(self, run_id: int, by: str | None = None) -> bytes:
        """The kept model of a run (bytes for `persistence.from_bytes`); with `by`, only if
        that owner started the run. InvalidInput says why there is none."""
        with self._connect() as db:
            row = self._allowed(db, run_id, by, "open")
        data = self.models.read(run_id, MAX_MODEL_BYTES) if row["model_bytes"] else None
        if data is None:
            raise InvalidInput(f"Run #{run_id}'s model is not kept: only runs from the Train "
                               "page that finished or were stopped keep their model, and only "
                               "each person's most recent ones.")
        return data

    # ---- who may change a run -----------------------------------------------------------
    def _set_live(self, run_id: int, live: bool) -> None:
        with self._live_lock:
            (self._live.add if live else self._live.discard)(run_id)

    def _allowed(self, db, run_id: int, by: str | None, action: str) -> sqlite3.Row:
        """The run's row if `by` may change it (None: anyone, i.e. the teacher or the CLI)."""
        row = db.execute("SELECT owner, status, updated, model_bytes FROM runs WHERE id=?",
                         (run_id,)).fetchone()
        if row is None:
            raise _no_run(run_id)
        if by is not None and row["owner"] != by:
            raise InvalidInput(f"Run #{run_id} is not yours: only the person who started it, or "
                               f"the teacher, can {action} it.")
        return row

    def is_active(self, run_id: int, row=None) -> bool:
        """True while a run trains or is paused, here or in another live process."""
        with self._live_lock:
            if run_id in self._live:
                return True
        if row is None:
            with self._connect() as db:
                row = db.execute("SELECT status, updated FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None or row["status"] not in ACTIVE:
            return False
        return _age_seconds(row["updated"]) < STALE_SECONDS

    def rename(self, run_id: int, name: str, by: str | None = None) -> None:
        """Rename a run; with `by`, only if that owner started it."""
        clean = name.strip() if isinstance(name, str) else ""
        if not clean:
            raise InvalidInput("A run's name cannot be empty.")
        if len(clean) > MAX_NAME:
            raise InvalidInput(f"A run's name can have at most {MAX_NAME} characters; "
                               f"this one has {len(clean)}.")
        with self._connect() as db, self._write(db):
            self._allowed(db, run_id, by, "rename")
            db.execute("UPDATE runs SET name=? WHERE id=?", (clean, run_id))

    def delete(self, run_id: int, by: str | None = None) -> bool:
        """Remove a run and its curves; False if there was no such run.

        A run that is training or paused cannot be deleted (its owner would lose it); with
        `by`, only that owner's runs can be.
        """
        with self._connect() as db, self._write(db):
            if db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
                return False
            row = self._allowed(db, run_id, by, "delete")
            if self.is_active(run_id, row):
                raise InvalidInput(f"Run #{run_id} is still training: stop it first, then "
                                   "delete it.")
            db.execute("DELETE FROM chunks WHERE run_id=?", (run_id,))
            deleted = db.execute("DELETE FROM runs WHERE id=?", (run_id,)).rowcount > 0
        self.models.remove(run_id)
        return deleted

    # ---- reading ------------------------------------------------------------------------
    def kept_models(self, owner: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Runs whose model is kept (of `owner`; None: everyone's), newest first: id, name,
        exact_match, model_bytes. It reads no curves, so pages may call it on every rerun."""
        query = "SELECT id, name, exact_match, model_bytes FROM runs WHERE model_bytes IS NOT NULL"
        args: tuple = ()
        if owner is not None:
            query, args = query + " AND owner=?", (owner,)
        query += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(query, args)]
        return pd.DataFrame(rows, columns=["id", "name", "exact_match", "model_bytes"])

    def list_runs(self, sweep_id: str | None = None) -> pd.DataFrame:
        """One row per run, newest first (columns: RUN_COLUMNS)."""
        query = ("SELECT r.*, (SELECT COUNT(*) FROM chunks c WHERE c.run_id=r.id) AS chunks "
                 "FROM runs r")
        args: tuple = ()
        if sweep_id is not None:
            query, args = query + " WHERE sweep_id=?", (sweep_id,)
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(query + " ORDER BY id DESC", args)]
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=RUN_COLUMNS)
        seconds = frame["train_seconds"].astype(float)
        frame["samples_per_second"] = frame["samples_seen"].astype(float) / seconds.where(seconds > 0)
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
        return frame[RUN_COLUMNS].reset_index(drop=True)

    def curves(self, run_ids=None) -> pd.DataFrame:
        """Per-chunk metrics of the given runs (all if None), one row per run and chunk."""
        query = ("SELECT c.run_id, r.name, c.chunk, c.samples_seen, c.train_seconds, c.train_loss, "
                 "c.val_loss, c.token_accuracy, c.val_token_accuracy, c.exact_match, "
                 "c.samples_per_second, c.chrf, c.bleu FROM chunks c "
                 "JOIN runs r ON r.id = c.run_id")
        args: tuple = ()
        if run_ids is not None:
            ids = [int(i) for i in run_ids]
            if not ids:
                return pd.DataFrame(columns=CURVE_COLUMNS)
            query += f" WHERE c.run_id IN ({', '.join('?' * len(ids))})"
            args = tuple(ids)
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(query + " ORDER BY c.run_id, c.chunk", args)]
        return pd.DataFrame(rows, columns=CURVE_COLUMNS)

    def get(self, run_id: int) -> RunInfo:
        """The run with its configuration as dataclasses and its chunk records."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            chunks = db.execute("SELECT * FROM chunks WHERE run_id=? ORDER BY chunk",
                                (run_id,)).fetchall()
        if row is None:
            raise _no_run(run_id)
        return _run_info(dict(row), [dict(c) for c in chunks])

    def exists(self, run_id: int) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None

    # ---- study results ------------------------------------------------------------------
    def save_results(self, kind: str, tag: str, config, rows) -> int:
        """Keep a finished study's table (e.g. kind "study") with the configuration that made it."""
        row = (kind, tag, json.dumps(_as_dict(config)), json.dumps(list(rows)), _now())
        with self._connect() as db, self._write(db):
            cur = db.execute("INSERT INTO results (kind, tag, config, rows, created) "
                             "VALUES (?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid)

    def update_results(self, result_id: int, config, rows) -> None:
        """Replace the configuration and rows of saved results (a sweep's, as it ends)."""
        with self._connect() as db, self._write(db):
            db.execute("UPDATE results SET config=?, rows=? WHERE id=?",
                       (json.dumps(_as_dict(config)), json.dumps(list(rows)), result_id))

    def list_results(self, kind: str) -> pd.DataFrame:
        """Saved tables of one kind, newest first: id, tag, created, config (a dict)."""
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(
                "SELECT id, tag, created, config FROM results WHERE kind=? ORDER BY id DESC",
                (kind,))]
        frame = pd.DataFrame(rows, columns=["id", "tag", "created", "config"])
        frame["config"] = [json.loads(c) for c in frame["config"]]
        return frame

    def get_results(self, result_id: int) -> tuple[dict, list[dict]]:
        """(configuration, rows) of one saved table."""
        with self._connect() as db:
            row = db.execute("SELECT config, rows FROM results WHERE id=?", (result_id,)).fetchone()
        if row is None:
            raise InvalidInput(f"There are no saved results with id {result_id}.")
        return json.loads(row["config"]), json.loads(row["rows"])

    def to_csv(self, sweep_id: str | None = None) -> str:
        """All runs as CSV text, with each run's full configuration as JSON columns."""
        frame = self.list_runs(sweep_id).drop(columns=["owner"])
        with self._connect() as db:
            configs = {r["id"]: r for r in db.execute(
                "SELECT id, settings, model_config, train_config FROM runs")}
        for column in ("settings", "model_config", "train_config"):
            frame[column] = [configs[i][column] if i in configs else "" for i in frame["id"]]
        return frame.to_csv(index=False)


class RunRecorder:
    """Records one Trainer's run into a History while it trains.

    Synchronous use: `rec = history.track(trainer); trainer.run(on_chunk=rec); rec.finish()`.
    Background use (trainer.start()): call `rec.sync()` whenever the page reruns; it adds the
    chunks trained since the last call and marks the run ended once the trainer is.
    """

    def __init__(self, history: History, trainer, name: str | None = None,
                 sweep_id: str | None = None, owner: str | None = None,
                 keep: KeepModels | None = None):
        self.history = history
        self.trainer = trainer  # a jobs.TrainingJob: in this process or on Ray
        self.run_id = history.start_run(trainer.task.name, trainer.task.settings,
                                        trainer.model_config, trainer.train_config, name,
                                        trainer.params, sweep_id, owner)
        self._device = ""
        history._set_live(self.run_id, True)
        self._last_chunk = 0
        self._status = Status.RUNNING
        self._lock = threading.Lock()
        self.lost = ""  # why the run is no longer recorded, if it is not
        self.keep = keep
        self.kept_model = False

    def __call__(self, record) -> None:
        """An `on_chunk` callback for Trainer.run; never raises into the training."""
        with self._lock:
            self._add(record)

    def _guarded(self, write) -> None:
        """Run one write; if the history cannot take it, training goes on unrecorded."""
        if self.lost:
            return
        try:
            write()
        except sqlite3.IntegrityError:
            self.lost = LOST
        except sqlite3.Error as err:
            self.lost = f"The run history could not be written ({err}); training goes on."
        if self.lost:
            self.history._set_live(self.run_id, False)

    def _add(self, record) -> None:
        device = self.trainer.device
        if device and device != self._device:
            self._device = device
            self._guarded(lambda: self.history.set_device(self.run_id, device))
        if record.chunk > self._last_chunk:
            self._guarded(lambda: self.history.add_chunk(self.run_id, record))
            self._last_chunk = record.chunk

    def sync(self) -> str:
        """Bring the stored run up to date with the trainer; returns the trainer's status."""
        snap = self.trainer.snapshot()
        with self._lock:
            for record in snap.history:
                self._add(record)
            if snap.status in ENDED:
                self._end(snap.status, snap.reason, snap.error)
            elif snap.status != self._status and self._status not in ENDED:
                self._status = snap.status
                self._guarded(lambda: self.history.set_status(self.run_id, snap.status))
        return snap.status

    def finish(self) -> None:
        """Record the trainer's remaining chunks and how it ended (after run() returned)."""
        self.sync()
        with self._lock:
            if self._status not in ENDED:  # run() returned but status says otherwise
                snap = self.trainer.snapshot()
                self._end(Status.STOPPED, snap.reason or "stopped", snap.error)

    def _end(self, status: str, reason: str, error: str) -> None:
        if self._status in ENDED:
            return
        self._status = status
        self._guarded(lambda: self.history.finish_run(self.run_id, status, reason, error))
        self.history._set_live(self.run_id, False)
        if self.keep is not None and status in KEEPS_MODEL and not self.lost:
            self._keep_model()

    def _keep_model(self) -> None:
        if not self.trainer.snapshot().samples_seen:
            return  # stopped before it trained: nothing worth keeping
        try:
            removed = self.history.keep_model(self.run_id, self.trainer.result(), self.keep)
        except Exception:  # noqa: BLE001 - the run is recorded; only its model is not kept
            log.exception("could not keep the model of run %s", self.run_id)
        else:
            self.kept_model = self.run_id not in removed

    @property
    def ended(self) -> bool:
        return self._status in ENDED


def _default_name(task: str, settings, model_config, train_config) -> str:
    if isinstance(model_config, ModelConfig):
        return run_name(task, settings, model_config,
                        train_config if isinstance(train_config, TrainConfig) else None)
    model = _as_dict(model_config)
    return f"{task}: {model.get('arch')} {str(model.get('cell')).upper()} {model.get('units')}"


def run_title(run_id: int, name) -> str:
    """'#12 name': a run's name with its number (default names already start with it)."""
    name = str(name)
    return name if name.startswith("#") else f"#{int(run_id)} {name}"


def _to_forget(kept, owner, keep: KeepModels) -> list[int]:
    """Which kept models to forget (`kept`: rows id, owner, model_bytes, oldest first; the
    newest is the one just kept, by `owner`)."""
    newest = kept[-1]["id"] if kept else None
    mine = [r["id"] for r in kept if r["owner"] == owner]
    drop = set(mine[:max(len(mine) - keep.per_owner, 0)])
    left = [r for r in kept if r["id"] not in drop]
    total = sum(r["model_bytes"] for r in left)
    while total > keep.total_bytes and len(left) > 1:
        per_owner: dict = {}
        for r in left:
            per_owner[r["owner"]] = per_owner.get(r["owner"], 0) + r["model_bytes"]
        biggest = max(per_owner, key=per_owner.get)
        victim = next((r for r in left if r["owner"] == biggest and r["id"] != newest),
                      next(r for r in left if r["id"] != newest))
        drop.add(victim["id"])
        left.remove(victim)
        total -= victim["model_bytes"]
    return sorted(drop)


def _age_seconds(stamp: str | None) -> float:
    """Seconds since an ISO time stamp (infinitely old if there is none)."""
    if not stamp:
        return float("inf")
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return float("inf")
    return (datetime.now(timezone.utc) - then).total_seconds()


def _no_run(run_id) -> InvalidInput:
    return InvalidInput(f"There is no run {run_id} in the history (it may have been deleted).")


def _numbers(raw) -> tuple[float, ...]:
    """A stored JSON list of numbers as a tuple (None back to NaN)."""
    values = json.loads(raw) if isinstance(raw, str) and raw else []
    return tuple(float("nan") if x is None else x for x in values)


def _run_info(row: dict, chunks: list[dict]) -> RunInfo:
    from .training import ChunkRecord  # imports Keras; only needed here

    try:
        settings = settings_for(row["task"], **from_json(json.loads(row["settings"])))
        model_config = ModelConfig(**json.loads(row["model_config"]))
        train_config = TrainConfig(**json.loads(row["train_config"]))
    except (InvalidInput, TypeError) as err:
        raise InvalidInput(f"Run {row['id']}'s stored settings can no longer be used: {err}") from None
    records = []
    for c in chunks:
        c = {**c, **{k: empty if c.get(k) is None else c[k]
                     for k, (_, empty) in CHUNK_EXTRAS.items()}}
        c.update({k: _numbers(c[k]) for k in CHUNK_LISTS})
        records.append(ChunkRecord(**{k: c[k] for k in (*CHUNK_FIELDS, *CHUNK_EXTRAS)}))
    return RunInfo(row["id"], row["name"], row["task"], settings, model_config, train_config,
                   row["params"], row["exact_match"], row["token_accuracy"], row["train_seconds"],
                   row["samples_seen"], row["status"], row["reason"], row["error"], row["sweep_id"],
                   row["created"], tuple(records), row.get("owner"), row.get("device") or "")
