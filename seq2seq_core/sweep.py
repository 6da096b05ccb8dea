"""The model size vs problem complexity study of seed 003's extensions, as a grid sweep.

Each cell of a (complexity value x encoder units) grid trains one model on a budget
(samples, seconds, and usually a target exact match), one cell after another in a
background thread. Every cell is recorded in the run History tagged with the sweep's id,
so the runs survive restarts; when the sweep ends (finished, stopped or failed) its
SweepConfig and results are saved as results of kind "sweep" (`saved_sweeps`,
`load_saved`). `results()` gives one row per cell of the grid; only cells whose status is
"finished" carry metrics, the others ("cut short", "failed", "pending", "not run") have NaN.
"""
from __future__ import annotations

import math
import re
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import partial

import pandas as pd

from .config import ModelConfig, TrainConfig, from_json
from .errors import InvalidInput
from .jobs import Job, JobRunner, train_recorded
from .tasks import REGISTRY, settings_for

MAX_VALUES = 5
MAX_TOTAL_SECONDS = 2 * 3600.0
# task -> complexity key -> what it means (for labels)
COMPLEXITY = {
    "addition": {"n_terms": "number of terms", "largest": "largest number",
                 "digits": "digits per number"},
    "reverse": {"n_in": "input length", "n_out": "output length",
                "cardinality": "distinct values"},
}
# complexity key -> its short name in run names ("sweep: addition terms=3, 50 units")
SHORT = {"n_terms": "terms", "largest": "largest", "digits": "digits", "n_in": "length",
         "n_out": "output", "cardinality": "values"}
TASK_TITLES = {"addition": "Addition", "reverse": "Reverse"}
KIND = "sweep"
TRAINED = "finished"
METRICS = ["params", "exact_match", "token_accuracy", "train_seconds", "samples_seen"]
RESULT_COLUMNS = ["cell", "complexity", "units", "params", "exact_match", "token_accuracy",
                  "train_seconds", "samples_seen", "reached", "status", "reason", "run_id"]


def _check_values(label: str, values, low: int, high: int) -> tuple[int, ...]:
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    if not 1 <= len(values) <= MAX_VALUES:
        raise InvalidInput(f"Give 1 to {MAX_VALUES} {label} values; got {len(values)}.")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise InvalidInput(f"{label.capitalize()} values must be whole numbers between "
                               f"{low} and {high}; got {v!r}.")
    if len(set(values)) != len(values):
        raise InvalidInput(f"The {label} values repeat: {', '.join(map(str, values))}.")
    return values


def cell_settings(task: str, base, key: str, value: int):
    """The task settings for one complexity value (InvalidInput if they make no sense)."""
    if key == "digits":
        values = {"largest": 10 ** value - 1}
    elif key == "n_in" and base.mode != "reverse_all":
        values = {"n_in": value, "n_out": min(base.n_out, value)}  # n_out follows a shorter n_in
    else:
        values = {key: value}
    try:
        return replace(base, **values)
    except InvalidInput as err:
        raise InvalidInput(f"With {key} = {value}: {err}") from None


def cell_model(base: ModelConfig, units: int) -> ModelConfig:
    """The network for one units value; a repeat decoder keeps its ratio to the encoder."""
    decoder = base.decoder_units
    if decoder is not None and base.arch == "repeat":
        decoder = max(1, round(units * decoder / base.units))
    try:
        return replace(base, units=units, decoder_units=decoder)
    except InvalidInput as err:
        raise InvalidInput(f"With {units} units: {err}") from None


def plural(n: int, word: str) -> str:
    """ "1 cell", "2 cells". """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def when(stamp) -> str:
    """A stored time stamp (ISO text, UTC) as local time: "1 Dec 09:08" ("" if unreadable)."""
    try:
        moment = pd.Timestamp(stamp)
    except (TypeError, ValueError):
        return ""
    if pd.isna(moment):
        return ""
    local = (moment if moment.tzinfo else moment.tz_localize("UTC")).tz_convert(
        datetime.now().astimezone().tzinfo)
    year = f" {local.year}" if local.year != datetime.now().year else ""
    return f"{local.day} {local:%b}{year} {local:%H:%M}"


def sweep_title(task: str, key: str, complexity_values, units_values) -> str:
    """ "Addition: number of terms 2, 3, 4 × units 25, 50, 100". """
    label = COMPLEXITY.get(task, {}).get(key, key)
    return (f"{TASK_TITLES.get(task, str(task).capitalize())}: {label} "
            f"{', '.join(map(str, complexity_values))} × units "
            f"{', '.join(map(str, units_values))}")


def cell_name(task: str, key: str, complexity: int, units: int) -> str:
    """A cell's run name in the History: "sweep: addition terms=3, 50 units"."""
    return f"sweep: {task} {SHORT.get(key, key)}={complexity}, {plural(units, 'unit')}"


def parse_cell_name(name: str) -> tuple[str, int] | None:
    """(complexity key, value) from a cell's run name, new or old style
    ("sweep 2026...-85da: n_terms=3, units=50"); None if the name says neither."""
    keys = {k for ks in COMPLEXITY.values() for k in ks} | set(SHORT.values())
    for word, value in re.findall(r"(\w+)=(\d+)", str(name)):
        if word in keys:
            return next((k for k, v in SHORT.items() if v == word), word), int(value)
    return None


@dataclass(frozen=True)
class Cell:
    index: int
    complexity: int
    units: int
    settings: object
    model_config: ModelConfig


@dataclass(frozen=True)
class SweepConfig:
    """A grid of problem complexity x model size, each cell trained with `train_config`.

    `complexity_key` is a task setting (addition: n_terms, largest or digits, where digits
    d means numbers up to 10**d - 1; reverse: n_in, n_out or cardinality; with n_in the
    output length shrinks to fit). `units_values` set the encoder units.
    """

    task: str = "addition"
    settings: object = None
    complexity_key: str = "n_terms"
    complexity_values: tuple[int, ...] = (2, 3, 4)
    units_values: tuple[int, ...] = (25, 50, 100)
    model_config: ModelConfig = field(
        default_factory=lambda: ModelConfig(arch="repeat", units=75, decoder_units=50))
    train_config: TrainConfig = field(
        default_factory=lambda: TrainConfig(max_samples=300_000, max_seconds=60.0,
                                            target_accuracy=0.99))

    def __post_init__(self):
        if self.task not in COMPLEXITY:
            raise InvalidInput(f"A sweep varies a generated task's complexity; choose from: "
                               f"{', '.join(COMPLEXITY)} (got {self.task!r}).")
        keys = COMPLEXITY[self.task]
        if self.complexity_key not in keys:
            raise InvalidInput(f"For {self.task}, vary one of: {', '.join(keys)} "
                               f"(got {self.complexity_key!r}).")
        settings = self.settings if self.settings is not None else settings_for(self.task)
        if not isinstance(settings, REGISTRY[self.task][0]):
            raise InvalidInput(f"The base settings are not {self.task} settings.")
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "complexity_values", _check_values(
            "complexity", self.complexity_values, 1, 99_999))
        object.__setattr__(self, "units_values", _check_values("units", self.units_values, 1, 1024))
        if not isinstance(self.model_config, ModelConfig) or \
                not isinstance(self.train_config, TrainConfig):
            raise InvalidInput("A sweep needs a ModelConfig and a TrainConfig.")
        total = self.train_config.max_seconds * len(self.complexity_values) * len(self.units_values)
        if total > MAX_TOTAL_SECONDS:
            raise InvalidInput(
                f"The sweep could train for {total / 3600:.1f} hours ({self.size} cells x "
                f"{self.train_config.max_seconds:g} s); the limit is "
                f"{MAX_TOTAL_SECONDS / 3600:.0f} hours. Lower the time budget per cell.")
        self.cells()  # every cell's settings and network must be valid

    @property
    def size(self) -> int:
        return len(self.complexity_values) * len(self.units_values)

    @property
    def complexity_label(self) -> str:
        return COMPLEXITY[self.task][self.complexity_key]

    @property
    def name(self) -> str:
        """What is swept: "Addition: number of terms 2, 3, 4 × units 25, 50, 100"."""
        return sweep_title(self.task, self.complexity_key, self.complexity_values,
                           self.units_values)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SweepConfig:
        """The SweepConfig that `to_dict` (via JSON) stored; InvalidInput if unusable."""
        try:
            values = from_json(data)
            values["settings"] = settings_for(values["task"], **from_json(values["settings"]))
            values["model_config"] = ModelConfig(**from_json(values["model_config"]))
            values["train_config"] = TrainConfig(**from_json(values["train_config"]))
            return cls(**values)
        except (KeyError, TypeError) as err:
            raise InvalidInput(f"The saved sweep's settings can no longer be used: {err}") from None

    def runs(self) -> list[tuple[str, object, ModelConfig]]:
        """(label, task, network) of every cell, to check what the sweep costs before it runs."""
        from .tasks import make_task
        return [(f"The cell {self.complexity_key} = {c.complexity}, {c.units} units",
                 make_task(self.task, c.settings), c.model_config) for c in self.cells()]

    def cells(self) -> list[Cell]:
        """The grid in training order: simplest problem first, smallest model first."""
        out = []
        for value in self.complexity_values:
            settings = cell_settings(self.task, self.settings, self.complexity_key, value)
            for units in self.units_values:
                out.append(Cell(len(out), value, units, settings,
                                cell_model(self.model_config, units)))
        return out


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: cells done of total, the cell training now and its progress.

    `trained` counts the cells that finished training (they have results); `cut_short` is
    the cell Stop interrupted, if any (its run is in the History, its metrics are left out).
    """

    status: str
    done: int
    total: int
    current: Cell | None
    cell_progress: float
    error: str = ""
    trained: int = 0
    cut_short: Cell | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, (self.done + self.cell_progress) / max(self.total, 1))


def new_sweep_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


class _SweepRunner(JobRunner):
    """A JobRunner that calls `on_end()` however it ended (finished, stopped or failed)."""

    def __init__(self, jobs, on_end):
        super().__init__(jobs)
        self.on_end = on_end

    def run(self) -> list[dict]:
        rows = super().run()
        self.on_end()
        return rows


class Sweep:
    """Trains a SweepConfig's cells one after another; start/stop from any thread."""

    def __init__(self, config: SweepConfig, history=None, sweep_id: str | None = None,
                 owner: str | None = None):
        self.config = config
        self.history = history
        self.sweep_id = sweep_id or new_sweep_id()
        self.cells = config.cells()
        self.result_id: int | None = None  # the saved results, once the sweep has ended
        self.save_error = ""
        self.runner = _SweepRunner(
            [Job(f"{config.complexity_key}={c.complexity}, units={c.units}",
                 partial(self._train_cell, cell=c)) for c in self.cells], self._save)
        self.runner.owner = owner  # who the cells' runs belong to

    # ---- control ------------------------------------------------------------------------
    def start(self) -> None:
        """Run the sweep in a background daemon thread."""
        self.runner.start()

    def stop(self) -> None:
        """Stop after the current chunk of the current cell; later cells are skipped."""
        self.runner.stop()

    def join(self, timeout: float | None = None) -> None:
        self.runner.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self.runner.is_alive

    @property
    def status(self) -> str:
        return self.runner.status

    def run(self) -> str:
        """Train every cell in this thread (until stop()); returns the final status."""
        self.runner.run()
        return self.runner.status

    def _train_cell(self, runner: JobRunner, cell: Cell) -> list[dict]:
        from .tasks import make_task

        cfg = self.config
        name = cell_name(cfg.task, cfg.complexity_key, cell.complexity, cell.units)
        model, trainer, run_id = train_recorded(
            runner, make_task(cfg.task, cell.settings), cell.model_config, cfg.train_config,
            self.history, name, self.sweep_id)
        return [self._row(cell, trainer, model.count_params(), run_id)]

    def _row(self, cell: Cell, trainer, params: int, run_id) -> dict:
        snap = trainer.snapshot()
        if snap.status != TRAINED:
            status = "cut short" if snap.status == "stopped" else snap.status
            return empty_row(cell.index, cell.complexity, cell.units, status,
                             snap.reason or snap.error, run_id)
        last = snap.latest
        exact = last.exact_match if last else math.nan
        target = self.config.train_config.target_accuracy
        return {"cell": cell.index, "complexity": cell.complexity, "units": cell.units,
                "params": params, "exact_match": exact,
                "token_accuracy": last.val_token_accuracy if last else math.nan,
                "train_seconds": snap.train_seconds, "samples_seen": snap.samples_seen,
                "reached": bool(target is not None and last and exact >= target),
                "status": TRAINED, "reason": snap.reason, "run_id": run_id}

    def _save(self) -> None:
        """Keep the config and results in the History (in the sweep's thread, at its end)."""
        if self.history is None:
            return
        try:
            results = self.results()
            self.result_id = self.history.save_results(KIND, self.config.name, {
                "sweep_id": self.sweep_id, "status": self.runner.status,
                "trained": int((results["status"] == TRAINED).sum()), "cells": len(results),
                "sweep": self.config.to_dict()}, rows_for_json(results))
        except Exception as err:  # noqa: BLE001 - the runs are recorded anyway
            self.save_error = f"The sweep's results could not be saved ({err})."

    # ---- reading ------------------------------------------------------------------------
    def progress(self) -> SweepProgress:
        snap, trainer = self.runner.snapshot(), self.runner.trainer
        running = snap.status == "running" and snap.done < len(self.cells)
        current = self.cells[snap.done] if running else None
        cell_progress = trainer.snapshot().progress if running and trainer is not None else 0.0
        cut = next((self.cells[r["cell"]] for r in snap.rows if r["status"] == "cut short"),
                   None)
        trained = sum(r["status"] == TRAINED for r in snap.rows)
        return SweepProgress(snap.status, snap.done, len(self.cells), current, cell_progress,
                             snap.error, trained, cut)

    def results(self) -> pd.DataFrame:
        """One row per cell of the grid, in training order (RESULT_COLUMNS).

        Cells not trained to the end have NaN metrics and say why in `status`: "cut short"
        (by Stop), "failed", "pending" (the sweep is still running) or "not run".
        """
        snap = self.runner.snapshot()
        done = {r["cell"]: r for r in snap.rows}
        waiting = "pending" if snap.status in ("ready", "running") else "not run"
        rows = [done.get(c.index) or empty_row(c.index, c.complexity, c.units, waiting)
                for c in self.cells]
        return _frame(rows, self.config, self.sweep_id)


def empty_row(index: int, complexity: int, units: int, status: str, reason: str = "",
              run_id=None) -> dict:
    """A cell without results: NaN metrics, never reached."""
    return {"cell": index, "complexity": complexity, "units": units,
            **{m: math.nan for m in METRICS}, "reached": False, "status": status,
            "reason": reason, "run_id": run_id}


def _typed(rows, **attrs) -> pd.DataFrame:
    """Rows as a RESULT_COLUMNS frame: float metrics (NaN if missing), nullable run ids."""
    frame = pd.DataFrame(list(rows), columns=RESULT_COLUMNS)
    for column in METRICS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["run_id"] = pd.to_numeric(frame["run_id"], errors="coerce").astype("Int64")
    frame["reached"] = frame["reached"].fillna(False).astype(bool)
    frame.attrs.update(attrs)
    return frame


def _frame(rows, config: SweepConfig, sweep_id: str, status: str = "") -> pd.DataFrame:
    return _typed(rows, complexity_key=config.complexity_key,
                  complexity_label=config.complexity_label, task=config.task, name=config.name,
                  sweep_id=sweep_id, status=status, complexity_values=config.complexity_values,
                  units_values=config.units_values)


def rows_for_json(results: pd.DataFrame) -> list[dict]:
    """A results frame as plain JSON-able dicts (missing values as None)."""
    out = []
    for record in results.to_dict("records"):
        row = {}
        for key, value in record.items():
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                row[key] = None
            elif hasattr(value, "item"):
                row[key] = value.item()
            else:
                row[key] = value
        out.append(row)
    return out


def saved_sweeps(history) -> pd.DataFrame:
    """Sweeps saved in the History, newest first: id, tag, created, config (a dict with
    sweep_id, status and sweep, the SweepConfig as a dict)."""
    return history.list_results(KIND)


def load_saved(history, result_id: int) -> tuple[SweepConfig, pd.DataFrame]:
    """A saved sweep's SweepConfig and results frame (as `Sweep.results()` gave it)."""
    data, rows = history.get_results(result_id)
    config = SweepConfig.from_dict(data["sweep"])
    rows = [{**r, **{m: math.nan for m in METRICS if r.get(m) is None}} for r in rows]
    return config, _frame(rows, config, data.get("sweep_id", ""), data.get("status", ""))


def pivot(results: pd.DataFrame, metric: str = "train_seconds") -> pd.DataFrame:
    """A results metric as a grid: one row per complexity value, one column per units value.

    Every cell in `results` is in the grid, NaN where it has no value (not trained).
    """
    grid = results.groupby(["complexity", "units"])[metric].last().unstack("units")
    grid.columns.name = "units"
    return grid


def results_from_history(history, sweep_id: str, complexity_key: str) -> pd.DataFrame:
    """A sweep's results rebuilt from its runs in the History: the fallback for sweeps saved
    before sweeps kept their config (or still running, or cut off by a restart).

    The grid is every complexity value x every units value seen; cells without a run are
    "not run", runs that did not finish have NaN metrics ("cut short" for a stopped run).
    """
    cells = {}
    task = "addition"
    for run_id in sorted(history.list_runs(sweep_id)["id"]):
        info = history.get(int(run_id))
        task = info.task
        value = getattr(info.settings, "largest" if complexity_key == "digits" else complexity_key)
        if complexity_key == "digits":
            value = len(str(value))
        key = (int(value), int(info.model_config.units))
        if info.status != TRAINED:
            status = {"stopped": "cut short", "running": "pending"}.get(info.status, info.status)
            cells[key] = empty_row(0, *key, status, info.reason or info.error, info.id)
            continue
        target = info.train_config.target_accuracy
        exact = math.nan if info.exact_match is None else info.exact_match
        cells[key] = {"cell": 0, "complexity": key[0], "units": key[1], "params": info.params,
                      "exact_match": exact,
                      "token_accuracy": (math.nan if info.token_accuracy is None
                                         else info.token_accuracy),
                      "train_seconds": info.train_seconds, "samples_seen": info.samples_seen,
                      "reached": bool(target is not None and exact >= target),
                      "status": TRAINED, "reason": info.reason, "run_id": info.id}
    values = sorted({c for c, _ in cells})
    units = sorted({u for _, u in cells})
    rows = []
    for c in values:
        for u in units:
            row = cells.get((c, u)) or empty_row(0, c, u, "not run")
            rows.append({**row, "cell": len(rows)})
    return _typed(rows, complexity_key=complexity_key,
                  complexity_label=COMPLEXITY.get(task, {}).get(complexity_key, complexity_key),
                  task=task, name=sweep_title(task, complexity_key, values, units),
                  sweep_id=sweep_id, status="", complexity_values=tuple(values),
                  units_values=tuple(units))
