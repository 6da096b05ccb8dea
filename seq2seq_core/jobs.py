"""Running several trainings one after another in a background thread (sweeps, studies).

Each job trains through `runner.train(trainer)`, so `stop()` reaches the trainer that is
running; the runner never touches any UI and pages read `snapshot()`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .config import ModelConfig, TrainConfig
from .models import Seq2Seq
from .status import Status
from .training import Background, Trainer


@dataclass(frozen=True)
class Job:
    """One unit of work: a label for the progress bar and a function returning result rows."""

    label: str
    run: Callable[["JobRunner"], list[dict]]


@dataclass(frozen=True)
class JobProgress:
    status: Status
    done: int
    total: int
    current: str
    rows: tuple[dict, ...]
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class JobRunner(Background):
    """Runs jobs in order in one daemon thread; stoppable between and during trainings.

    `on_finish(rows)` is called once every job has run (not after stop() or a failure).
    """

    def __init__(self, jobs: list[Job], on_finish: Callable[[list[dict]], None] | None = None):
        self.jobs = list(jobs)
        self.on_finish = on_finish
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._trainer: Trainer | None = None
        self.done, self.current, self.status, self.error = 0, "", Status.READY, ""
        self.owner: str | None = None  # recorded as the owner of every run it trains

    @property
    def trainer(self) -> Trainer | None:
        """The trainer running now, if any."""
        with self._lock:
            return self._trainer

    def train(self, trainer: Trainer, on_chunk=None) -> str:
        """Run a trainer in this runner's thread so that stop() can reach it."""
        with self._lock:
            self._trainer = trainer
        if self._stop.is_set():
            trainer.stop()
        try:
            return trainer.run(on_chunk=on_chunk)
        finally:
            with self._lock:
                self._trainer = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> list[dict]:
        self.status = Status.RUNNING
        try:
            for job in self.jobs:
                if self._stop.is_set():
                    break
                self.current = job.label
                rows = job.run(self)
                with self._lock:
                    self._rows.extend(rows)
                    self.done += 1
            self.status = Status.STOPPED if self._stop.is_set() else Status.FINISHED
            if self.status == Status.FINISHED and self.on_finish is not None:
                self.on_finish(list(self._rows))
        except Exception as err:  # noqa: BLE001 - reported through snapshot()
            self.status, self.error = Status.FAILED, f"{type(err).__name__}: {err}"
        self.current = ""
        return list(self._rows)

    def start(self) -> None:
        if not self.is_alive:
            self.status = Status.RUNNING
            self._launch(self.run, "seq2seq-jobs")

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.stop()

    def snapshot(self) -> JobProgress:
        with self._lock:
            rows = tuple(self._rows)
        return JobProgress(self.status, self.done, len(self.jobs), self.current, rows, self.error)


def train_recorded(runner: JobRunner, task, model_config: ModelConfig, train_config: TrainConfig,
                   history=None, name: str | None = None, tag: str | None = None):
    """Build and train one model inside a job, recording it in the History when given one.

    Returns (model, trainer, run_id); run_id is None without a History.
    """
    model = Seq2Seq.build(task, model_config, seed=train_config.seed)
    trainer = Trainer(model, train_config)
    recorder = (history.track(trainer, name=name, sweep_id=tag, owner=runner.owner)
                if history is not None else None)
    runner.train(trainer, on_chunk=recorder)
    if recorder is not None:
        recorder.finish()
    return model, trainer, recorder.run_id if recorder is not None else None
