"""The job protocol every training speaks, and a runner for many of them (sweeps, studies).

A *training job* (`TrainingJob`) is one model being trained somewhere: in a thread of this
process (`training.Trainer`) or in a Ray worker (`executors.RayTraining`). Pages, `ui/`, the
run history and the runner below use only this protocol, so they never know where a
training runs. A `JobRunner` (a sweep's or a study's) speaks the smaller `Job` protocol:
start, stop, status, snapshot, result.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

from .config import ModelConfig, TrainConfig
from .status import Status
from .training import Background, Snapshot

POLL_SECONDS = 0.2


@runtime_checkable
class Job(Protocol):
    """Anything that runs in the background and that a page polls."""

    @property
    def status(self) -> Status: ...

    @property
    def is_alive(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def snapshot(self): ...


@runtime_checkable
class TrainingJob(Job, Protocol):
    """One model in training, wherever it trains.

    `start(on_chunk, on_end)`: `on_chunk(record)` runs after every chunk and `on_end()` once
    it ended, both in a thread of this process (a run-history recorder), never UI code.
    `result()` is the trained model as `.s2s` bytes; `model` is it loaded (the Inspect
    page's model; for a training elsewhere, None until it is back). `outcome` is what
    `Training.after` returned where it trained. `step_batch()` trains one batch of a paused
    training (False if it is not paused); `watch(texts)` names the inputs re-decoded after
    every chunk (`ChunkRecord.watched`), each checked by the task first.
    """

    executor: str
    task: Any
    model_config: ModelConfig
    train_config: TrainConfig
    params: int
    device: str
    outcome: Any

    def start(self, on_chunk=None, on_end=None) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def step_batch(self) -> bool: ...

    def watch(self, texts) -> None: ...

    def snapshot(self) -> Snapshot: ...

    def result(self) -> bytes: ...

    @property
    def model(self): ...


@dataclass(frozen=True)
class Training:
    """What to train: everything an executor needs to build and train one model."""

    task: Any  # a Task (pickled to a Ray worker as it is)
    model_config: ModelConfig
    train_config: TrainConfig
    name: str | None = None  # its name in the run history
    tag: str | None = None  # the sweep or study it belongs to, in the run history
    after: Callable | None = None  # run on the finished model where it trained -> outcome
    keep_model: bool = True  # bring the trained model back (False: only curves and outcome)
    start_from: bytes | None = None  # .s2s bytes of a model to train further (else a new one)
    watched: tuple[str, ...] = ()  # inputs re-decoded after every chunk (training.check_watched)

    def build(self):
        """The network to train, where it will train: a new one, or `start_from` loaded."""
        if self.start_from is not None:
            from .persistence import from_bytes
            return from_bytes(self.start_from)
        from .models import Seq2Seq
        return Seq2Seq.build(self.task, self.model_config, seed=self.train_config.seed)


@dataclass(frozen=True)
class Plan:
    """One job of a runner: a label for the progress bar, what to train, and how the ended
    training becomes result rows (`rows(job, run_id)`, called in the runner's thread;
    run_id is its run in the history, None without one)."""

    label: str
    training: Training
    rows: Callable[[TrainingJob, int | None], list[dict]]


@dataclass(frozen=True)
class JobProgress:
    status: Status
    done: int
    total: int
    running: tuple[tuple[int, float], ...]  # (plan index, its progress 0..1), training now
    rows: tuple[dict, ...]
    error: str = ""
    cut_short: tuple[int, ...] = ()  # plans Stop interrupted (their trainings were stopped)
    labels: tuple[str, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()  # plans whose training failed, with the error

    @property
    def fraction(self) -> float:
        return min(1.0, (self.done + sum(p for _, p in self.running)) / max(self.total, 1))

    @property
    def current(self) -> str:
        """What trains now, e.g. "attention, input length 8 · no attention, ..." ('' if none)."""
        return " · ".join(self.labels[i] for i, _ in self.running)


@dataclass
class _Running:
    index: int
    plan: Plan
    job: TrainingJob
    run_id: int | None


class JobRunner(Background):
    """Trains its plans on an executor, up to `workers` at a time, in one daemon thread.

    Each training is recorded in `history` (when given) as it trains. Stop stops every
    training under way and starts no more. `on_finish(rows)` is called once every plan has
    run (not after stop() or a failure); `result()` gives the rows so far.
    """

    def __init__(self, plans: list[Plan], executor, workers: int = 1, history=None,
                 owner: str | None = None, on_finish: Callable[[list[dict]], None] | None = None):
        self.plans = list(plans)
        self.executor = executor  # an executors.Executor: where the trainings run
        self.workers = max(1, min(int(workers), len(self.plans) or 1))
        self.history = history
        self.owner = owner  # recorded as the owner of every run it trains
        self.on_finish = on_finish
        self._rows: list[dict] = []
        self._running: list[_Running] = []
        self._cut: list[int] = []
        self._failed: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.done, self.status, self.error = 0, Status.READY, ""

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _launch_one(self, index: int) -> None:
        plan = self.plans[index]
        job = self.executor.train(plan.training)
        recorder = None
        if self.history is not None:
            recorder = self.history.track(job, name=plan.training.name,
                                          sweep_id=plan.training.tag, owner=self.owner)
        with self._lock:
            self._running.append(_Running(index, plan, job, recorder and recorder.run_id))
        if recorder is None:
            job.start()
        else:
            job.start(on_chunk=recorder, on_end=recorder.finish)
        if self._stop.is_set():  # Stop came while the network was being built
            job.stop()

    def _collect(self, item: _Running) -> None:
        item.job.join()
        rows = item.plan.rows(item.job, item.run_id)
        with self._lock:
            self._running.remove(item)
            self._rows.extend(rows)
            self.done += 1
            if item.job.status == Status.STOPPED and self._stop.is_set():
                self._cut.append(item.index)
            if item.job.status == Status.FAILED:
                self._failed.append((item.index, item.job.snapshot().error))

    def run(self) -> list[dict]:
        """Train every plan (until stop()); returns the rows."""
        self.status = Status.RUNNING
        waiting = list(range(len(self.plans)))
        try:
            while waiting or self._running:
                while waiting and len(self._running) < self.workers and not self._stop.is_set():
                    self._launch_one(waiting.pop(0))
                if self._stop.is_set():
                    waiting.clear()
                for item in [r for r in list(self._running) if not r.job.is_alive]:
                    self._collect(item)
                time.sleep(POLL_SECONDS)  # not _stop.wait: once set, it would spin
            self.status = Status.STOPPED if self._stop.is_set() else Status.FINISHED
            if self.status == Status.FINISHED and self.on_finish is not None:
                self.on_finish(list(self._rows))
        except Exception as err:  # noqa: BLE001 - reported through snapshot()
            self._stop_running()
            self.status, self.error = Status.FAILED, f"{type(err).__name__}: {err}"
        return list(self._rows)

    def start(self) -> None:
        if not self.is_alive:
            self.status = Status.RUNNING
            self._launch(self.run, "seq2seq-jobs")

    def _stop_running(self, seconds: float = 60.0) -> None:
        with self._lock:
            running = list(self._running)
        for item in running:
            item.job.stop()
        deadline = time.monotonic() + seconds
        for item in running:
            item.job.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            running = list(self._running)
        for item in running:
            item.job.stop()

    def result(self) -> list[dict]:
        with self._lock:
            return list(self._rows)

    def snapshot(self) -> JobProgress:
        with self._lock:
            rows, running, cut = tuple(self._rows), list(self._running), tuple(self._cut)
            failed = tuple(self._failed)
        progress = tuple((r.index, _progress(r.job)) for r in running)
        return JobProgress(self.status, self.done, len(self.plans), progress, rows, self.error,
                           cut, tuple(p.label for p in self.plans), failed)


def _progress(job: TrainingJob) -> float:
    try:
        return job.snapshot().progress
    except Exception:  # noqa: BLE001 - a progress bar never fails the page
        return 0.0
