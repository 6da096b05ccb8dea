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
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import partial

import pandas as pd

from .config import ModelConfig, TrainConfig, from_json
from .errors import InvalidInput
from .executors import LOCAL
from .jobs import JobRunner, Plan, Training
from .status import CellStatus, Status
from .settings import spec
from .tasks import REGISTRY, TaskSettings, make_task, settings_for
from .vocab import plural

MAX_VALUES = 5
MAX_TOTAL_SECONDS = 2 * 3600.0
KIND = "sweep"
TRAINED = CellStatus.FINISHED
METRICS = ["params", "exact_match", "token_accuracy", "train_seconds", "samples_seen"]
RESULT_COLUMNS = ["cell", "complexity", "units", "params", "exact_match", "token_accuracy",
                  "train_seconds", "samples_seen", "reached", "status", "reason", "run_id"]


@dataclass(frozen=True)
class Axis:
    """A task setting a sweep varies, one grid row per value.

    Its label and range come from the setting's Spec; `digits` (d digits per number) is the
    one derived axis: it sets `largest` to 10**d - 1. With `n_in` the output length shrinks
    to fit a shorter input.
    """

    task: str
    key: str
    short: str  # its word in run names: "sweep: addition terms=3, 50 units"
    examples: tuple[int, ...]  # the values the Sweep page proposes
    field: str = ""  # the settings field it sets, when it is not `key`

    @property
    def spec(self):
        return spec(REGISTRY[self.task][0], self.field or self.key)

    @property
    def label(self) -> str:
        return "digits per number" if self.key == "digits" else self.spec.label.lower()

    @property
    def bounds(self) -> tuple[int, int]:
        if self.key == "digits":
            return 1, len(str(self.spec.high))
        return int(self.spec.low), int(self.spec.high)

    def settings(self, base, value: int):
        """The task settings for one value (InvalidInput if they make no sense)."""
        if self.key == "digits":
            values = {"largest": 10 ** value - 1}
        elif self.key == "n_in" and base.mode != "reverse_all":
            values = {"n_in": value, "n_out": min(base.n_out, value)}
        else:
            values = {self.key: value}
        try:
            return replace(base, **values)
        except InvalidInput as err:
            raise InvalidInput(f"With {self.label} {value}: {err}") from None

    def value_of(self, settings) -> int:
        """The axis value that task settings stand for (the inverse of `settings`)."""
        value = getattr(settings, self.field or self.key)
        return len(str(value)) if self.key == "digits" else int(value)


AXES = {
    "addition": {a.key: a for a in (
        Axis("addition", "n_terms", "terms", (2, 3, 4)),
        Axis("addition", "largest", "largest", (10, 50, 100)),
        Axis("addition", "digits", "digits", (1, 2, 3), field="largest"))},
    "reverse": {a.key: a for a in (
        Axis("reverse", "n_in", "length", (4, 6, 8)),
        Axis("reverse", "n_out", "output", (1, 2, 3)),
        Axis("reverse", "cardinality", "values", (10, 50, 100)))},
}


def axis(task: str, key: str) -> Axis:
    """The axis `key` of a task; InvalidInput naming the ones there are."""
    if task not in AXES:
        raise InvalidInput(f"A sweep varies a generated task's complexity; choose from: "
                           f"{', '.join(AXES)} (got {task!r}).")
    if key not in AXES[task]:
        raise InvalidInput(f"For {task}, vary one of: {', '.join(AXES[task])} (got {key!r}).")
    return AXES[task][key]


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


def cell_model(base: ModelConfig, units: int) -> ModelConfig:
    """The network for one units value; a repeat decoder keeps its ratio to the encoder."""
    decoder = base.decoder_units
    if decoder is not None and base.arch == "repeat":
        decoder = max(1, round(units * decoder / base.units))
    try:
        return replace(base, units=units, decoder_units=decoder)
    except InvalidInput as err:
        raise InvalidInput(f"With {units} units: {err}") from None


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
    return (f"{REGISTRY[task][1].label}: {axis(task, key).label} "
            f"{', '.join(map(str, complexity_values))} × units "
            f"{', '.join(map(str, units_values))}")


def cell_name(task: str, key: str, complexity: int, units: int) -> str:
    """A cell's run name in the History: "sweep: addition terms=3, 50 units"."""
    return f"sweep: {task} {axis(task, key).short}={complexity}, {plural(units, 'unit')}"


@dataclass(frozen=True)
class Cell:
    index: int
    complexity: int
    units: int
    settings: TaskSettings
    model_config: ModelConfig


@dataclass(frozen=True)
class SweepConfig:
    """A grid of problem complexity x model size, each cell trained with `train_config`.

    `complexity_key` is a task setting (addition: n_terms, largest or digits, where digits
    d means numbers up to 10**d - 1; reverse: n_in, n_out or cardinality; with n_in the
    output length shrinks to fit). `units_values` set the encoder units.
    """

    task: str = "addition"
    settings: TaskSettings | None = None
    complexity_key: str = "n_terms"
    complexity_values: tuple[int, ...] = (2, 3, 4)
    units_values: tuple[int, ...] = (25, 50, 100)
    model_config: ModelConfig = field(
        default_factory=lambda: ModelConfig(arch="repeat", units=75, decoder_units=50))
    train_config: TrainConfig = field(
        default_factory=lambda: TrainConfig(max_samples=300_000, max_seconds=60.0,
                                            target_accuracy=0.99))

    def __post_init__(self):
        varied = axis(self.task, self.complexity_key)
        settings = self.settings if self.settings is not None else settings_for(self.task)
        if not isinstance(settings, REGISTRY[self.task][0]):
            raise InvalidInput(f"The base settings are not {self.task} settings.")
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "complexity_values", _check_values(
            varied.label, self.complexity_values, *varied.bounds))
        units = spec(ModelConfig, "units")
        object.__setattr__(self, "units_values", _check_values("units", self.units_values,
                                                               units.low, units.high))
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
    def axis(self) -> Axis:
        return axis(self.task, self.complexity_key)

    @property
    def complexity_label(self) -> str:
        return self.axis.label

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
        return [(f"The cell {self.complexity_key} = {c.complexity}, {c.units} units",
                 make_task(self.task, c.settings), c.model_config) for c in self.cells()]

    def cells(self) -> list[Cell]:
        """The grid in training order: simplest problem first, smallest model first."""
        out = []
        for value in self.complexity_values:
            settings = self.axis.settings(self.settings, value)
            for units in self.units_values:
                out.append(Cell(len(out), value, units, settings,
                                cell_model(self.model_config, units)))
        return out


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: cells done of total, the cells training now with their progress.

    `trained` counts the cells that finished training (they have results); `cut_short` are
    the cells Stop interrupted (their runs are in the History, their metrics are left out).
    """

    status: Status
    done: int
    total: int
    running: tuple[tuple[Cell, float], ...]
    error: str = ""
    trained: int = 0
    cut_short: tuple[Cell, ...] = ()

    @property
    def fraction(self) -> float:
        return min(1.0, (self.done + sum(p for _, p in self.running)) / max(self.total, 1))


def new_sweep_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


class _SweepRunner(JobRunner):
    """A JobRunner that calls `save()` before its first job and again however it ended
    (finished, stopped or failed)."""

    def __init__(self, plans, save, **options):
        super().__init__(plans, **options)
        self.save = save

    def run(self) -> list[dict]:
        self.save()
        rows = super().run()
        self.save()
        return rows


class Sweep:
    """Trains a SweepConfig's cells, `workers` at a time on `executor` (default: one after
    another in this process); start/stop from any thread."""

    def __init__(self, config: SweepConfig, history=None, sweep_id: str | None = None,
                 owner: str | None = None, executor=None, workers: int = 1):
        self.config = config
        self.history = history
        self.sweep_id = sweep_id or new_sweep_id()
        self.cells = config.cells()
        self.result_id: int | None = None  # its saved config and results, once it started
        self.save_error = ""
        self.runner = _SweepRunner([self._plan(c) for c in self.cells], self._save,
                                   executor=executor or LOCAL, workers=workers,
                                   history=history, owner=owner)

    @property
    def executor(self) -> str:
        return self.runner.executor.name

    @property
    def workers(self) -> int:
        return self.runner.workers

    # ---- control ------------------------------------------------------------------------
    def start(self) -> None:
        """Run the sweep in a background daemon thread."""
        self.runner.start()

    def stop(self) -> None:
        """Stop the cells training now (after their current batch); later cells are skipped."""
        self.runner.stop()

    def join(self, timeout: float | None = None) -> None:
        self.runner.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self.runner.is_alive

    @property
    def status(self) -> Status:
        return self.runner.status

    def run(self) -> Status:
        """Train every cell from this thread (until stop()); returns the final status."""
        self.runner.run()
        return self.runner.status

    def snapshot(self) -> SweepProgress:
        return self.progress()

    def result(self) -> pd.DataFrame:
        return self.results()

    def _plan(self, cell: Cell) -> Plan:
        cfg = self.config
        training = Training(make_task(cfg.task, cell.settings), cell.model_config,
                            cfg.train_config,
                            cell_name(cfg.task, cfg.complexity_key, cell.complexity, cell.units),
                            self.sweep_id, keep_model=False)
        return Plan(f"{cfg.complexity_key}={cell.complexity}, units={cell.units}", training,
                    partial(self._rows, cell))

    def _rows(self, cell: Cell, job, run_id) -> list[dict]:
        snap = job.snapshot()
        last = snap.latest
        why = (snap.error or snap.reason) if snap.status == Status.FAILED else snap.reason
        return [result_row(
            cell.index, cell.complexity, cell.units, CellStatus.of(snap.status), why, run_id,
            self.config.train_config.target_accuracy,
            params=job.params, exact_match=last.exact_match if last else None,
            token_accuracy=last.val_token_accuracy if last else None,
            train_seconds=snap.train_seconds, samples_seen=snap.samples_seen)]

    def _save(self) -> None:
        """Keep the config and the results so far in the History: once when the sweep
        starts (so another session knows what it varies) and again when it ends."""
        if self.history is None:
            return
        try:
            results = self.results()
            config = {"sweep_id": self.sweep_id, "status": self.runner.status,
                      "trained": int((results["status"] == TRAINED).sum()),
                      "cells": len(results), "sweep": self.config.to_dict()}
            if self.result_id is None:
                self.result_id = self.history.save_results(KIND, self.config.name, config,
                                                           rows_for_json(results))
            else:
                self.history.update_results(self.result_id, config, rows_for_json(results))
            self.save_error = ""
        except Exception as err:  # noqa: BLE001 - the runs are recorded anyway
            self.save_error = f"The sweep's results could not be saved ({err})."

    # ---- reading ------------------------------------------------------------------------
    def progress(self) -> SweepProgress:
        snap = self.runner.snapshot()
        running = tuple((self.cells[i], p) for i, p in snap.running)
        cut = tuple(self.cells[i] for i in sorted(snap.cut_short))
        trained = sum(r["status"] == TRAINED for r in snap.rows)
        return SweepProgress(snap.status, snap.done, len(self.cells), running, snap.error,
                             trained, cut)

    def results(self) -> pd.DataFrame:
        """One row per cell of the grid, in training order (RESULT_COLUMNS).

        Cells not trained to the end have NaN metrics and say why in `status`: "cut short"
        (by Stop), "failed", "pending" (the sweep is still running) or "not run".
        """
        snap = self.runner.snapshot()
        done = {r["cell"]: r for r in snap.rows}
        waiting = CellStatus.NOT_RUN if snap.status.ended else CellStatus.PENDING
        rows = [done.get(c.index) or result_row(c.index, c.complexity, c.units, waiting)
                for c in self.cells]
        return _frame(rows, self.config, self.sweep_id)


def result_row(index: int, complexity: int, units: int, status: CellStatus, reason: str = "",
               run_id=None, target: float | None = None, **metrics) -> dict:
    """One cell of the results (RESULT_COLUMNS). Only a finished cell keeps its metrics
    (missing ones NaN) and can have reached the target; any other has NaN metrics."""
    finished = status == TRAINED
    values = {m: math.nan if not finished or metrics.get(m) is None else metrics[m]
              for m in METRICS}
    exact = values["exact_match"]
    return {"cell": index, "complexity": complexity, "units": units, **values,
            "reached": bool(finished and target is not None and exact >= target),
            "status": status, "reason": reason, "run_id": run_id}


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


def results_so_far(history, config: SweepConfig, sweep_id: str) -> pd.DataFrame:
    """The whole grid of a sweep still running elsewhere: each cell's run so far from the
    History, "pending" where none has started."""
    done = {(r["complexity"], r["units"]): r
            for r in results_from_history(history, sweep_id, config.task,
                                          config.complexity_key).to_dict("records")
            if r["status"] != CellStatus.NOT_RUN}
    rows = [{**(done.get((c.complexity, c.units))
                or result_row(c.index, c.complexity, c.units, CellStatus.PENDING)),
             "cell": c.index} for c in config.cells()]
    return _frame(rows, config, sweep_id)


def results_from_history(history, sweep_id: str, task: str, key: str) -> pd.DataFrame:
    """A sweep's results rebuilt from its runs in the History: for a sweep still running in
    another session (or cut off by a restart), and sweeps saved before sweeps kept their
    config.

    The grid is every complexity value x every units value seen; cells without a run are
    "not run", runs that did not finish have NaN metrics ("cut short" for a stopped run).
    """
    varied, cells = axis(task, key), {}
    for run_id in sorted(history.list_runs(sweep_id)["id"]):
        info = history.get(int(run_id))
        cell = (varied.value_of(info.settings), int(info.model_config.units))
        cells[cell] = result_row(
            0, *cell, CellStatus.of(info.status), info.reason or info.error, info.id,
            info.train_config.target_accuracy, params=info.params,
            exact_match=info.exact_match, token_accuracy=info.token_accuracy,
            train_seconds=info.train_seconds, samples_seen=info.samples_seen)
    values = sorted({c for c, _ in cells})
    units = sorted({u for _, u in cells})
    rows = []
    for c in values:
        for u in units:
            row = cells.get((c, u)) or result_row(0, c, u, CellStatus.NOT_RUN)
            rows.append({**row, "cell": len(rows)})
    return _typed(rows, complexity_key=key, complexity_label=varied.label, task=task,
                  name=sweep_title(task, key, values, units), sweep_id=sweep_id, status="",
                  complexity_values=tuple(values), units_values=tuple(units))
