"""The model size vs problem complexity study of seed 003's extensions, as a grid sweep.

Each cell of a (complexity value x encoder units) grid trains one model on a budget
(samples, seconds, and usually a target exact match), one cell after another in a
background thread. Every cell is recorded in the run History tagged with the sweep's id,
so the runs survive restarts; `results()` gives one row per trained cell with the time it
took to reach the target (or to spend its budget).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

import pandas as pd

from .config import ModelConfig, TrainConfig
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
    """Where a sweep stands: cells done of total, the cell training now and its progress."""

    status: str
    done: int
    total: int
    current: Cell | None
    cell_progress: float
    error: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, (self.done + self.cell_progress) / max(self.total, 1))


def new_sweep_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


class Sweep:
    """Trains a SweepConfig's cells one after another; start/stop from any thread."""

    def __init__(self, config: SweepConfig, history=None, sweep_id: str | None = None,
                 owner: str | None = None):
        self.config = config
        self.history = history
        self.sweep_id = sweep_id or new_sweep_id()
        self.cells = config.cells()
        self.runner = JobRunner([Job(f"{config.complexity_key}={c.complexity}, units={c.units}",
                                     partial(self._train_cell, cell=c)) for c in self.cells])
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
        name = f"sweep {self.sweep_id}: {cfg.complexity_key}={cell.complexity}, units={cell.units}"
        model, trainer, run_id = train_recorded(
            runner, make_task(cfg.task, cell.settings), cell.model_config, cfg.train_config,
            self.history, name, self.sweep_id)
        return [self._row(cell, trainer, model.count_params(), run_id)]

    def _row(self, cell: Cell, trainer, params: int, run_id) -> dict:
        snap = trainer.snapshot()
        last = snap.latest
        exact = last.exact_match if last else 0.0
        target = self.config.train_config.target_accuracy
        return {"cell": cell.index, "complexity": cell.complexity, "units": cell.units,
                "params": params, "exact_match": exact,
                "token_accuracy": last.val_token_accuracy if last else 0.0,
                "train_seconds": snap.train_seconds, "samples_seen": snap.samples_seen,
                "reached": bool(target is not None and exact >= target),
                "status": snap.status, "reason": snap.reason or snap.error, "run_id": run_id}

    # ---- reading ------------------------------------------------------------------------
    def progress(self) -> SweepProgress:
        snap, trainer = self.runner.snapshot(), self.runner.trainer
        running = snap.status == "running" and snap.done < len(self.cells)
        current = self.cells[snap.done] if running else None
        cell_progress = trainer.snapshot().progress if running and trainer is not None else 0.0
        return SweepProgress(snap.status, snap.done, len(self.cells), current, cell_progress,
                             snap.error)

    def results(self) -> pd.DataFrame:
        """One row per trained cell (RESULT_COLUMNS); `attrs` name the complexity key."""
        frame = pd.DataFrame(list(self.runner.snapshot().rows), columns=RESULT_COLUMNS)
        frame.attrs.update(complexity_key=self.config.complexity_key,
                           complexity_label=self.config.complexity_label,
                           sweep_id=self.sweep_id)
        return frame


def pivot(results: pd.DataFrame, metric: str = "train_seconds") -> pd.DataFrame:
    """A results metric as a grid: one row per complexity value, one column per units value."""
    return results.pivot_table(index="complexity", columns="units", values=metric,
                               aggfunc="last")


def results_from_history(history, sweep_id: str, complexity_key: str) -> pd.DataFrame:
    """A past sweep's results rebuilt from its runs in the History (e.g. after a restart)."""
    rows = []
    for run_id in sorted(history.list_runs(sweep_id)["id"]):
        info = history.get(int(run_id))
        value = getattr(info.settings, "largest" if complexity_key == "digits" else complexity_key)
        if complexity_key == "digits":
            value = len(str(value))
        target = info.train_config.target_accuracy
        exact = info.exact_match or 0.0
        rows.append({"cell": len(rows), "complexity": value, "units": info.model_config.units,
                     "params": info.params, "exact_match": exact,
                     "token_accuracy": info.token_accuracy or 0.0,
                     "train_seconds": info.train_seconds, "samples_seen": info.samples_seen,
                     "reached": bool(target is not None and exact >= target),
                     "status": info.status, "reason": info.reason or info.error,
                     "run_id": info.id})
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame.attrs.update(complexity_key=complexity_key, sweep_id=sweep_id)
    return frame
