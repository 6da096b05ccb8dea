"""Training in chunks, in the caller's thread or a background one, with true per-batch metrics.

The trainer never touches any UI: a page reads `snapshot()` while the thread runs. Its hot
path is little more than the compiled step: batches come ready as tensors (`feeding`),
the step may be XLA's (`steps`), and the held-out check after a chunk is one compiled call
on a share of the held-out examples in proportion to the chunk (all of them near the target
and after the last chunk).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from math import ceil

import keras
import numpy as np
import tensorflow as tf

from .budget import EVAL_BATCH
from .config import TrainConfig
from .errors import InvalidInput
from .evaluation import score_predicted
from .feeding import Feeder
from .gates import cell_traces
from .models import Seq2Seq
from .schedules import learning_rate
from .status import Status
from .tasks import Pairs
from .steps import TrainSteps

LIVE_SAMPLES = 8
# Held-out examples scored per example trained in the chunk. A scored row costs a third to
# a tenth of a trained one (forward only, no update), so this keeps the check near or under
# 5% of the training time (benchmarks/fast_training.py prints the share), and unlike a
# timed budget it gives the same count, so the same curves, for the same seed.
SCORED_PER_SAMPLE = 0.15
MIN_SCORED = 200       # at least this many (all, if there are fewer);
NEAR_TARGET = 0.05     # a score this close to the target gets every example scored
MAX_WATCHED = 5        # watched inputs, re-decoded after every chunk
# Their gates are recomputed after a chunk once this much training time has passed since
# the last time (and after a chunk cut short by a pause, a Step or the end): the page
# redraws every 2 s, and short chunks would otherwise pay the Python of building them.
GATES_EVERY = 0.5


@dataclass(frozen=True)
class ChunkRecord:
    """What one chunk of training did, measured after it."""

    chunk: int
    samples_seen: int
    train_seconds: float
    batch_losses: tuple[float, ...]
    batch_accuracies: tuple[float, ...]
    train_loss: float
    token_accuracy: float
    val_loss: float
    val_token_accuracy: float
    exact_match: float
    samples_per_second: float
    scored: int = 0            # held-out examples the chunk's metrics are over (0: unknown)
    eval_seconds: float = 0.0  # what the held-out check after the chunk took
    compiler: str = ""         # the step that trained the chunk: "graph" or "xla"
    # held-out share right at each output position (NaN where no scored example reaches it)
    position_accuracy: tuple[float, ...] = ()
    watched: tuple[tuple[str, str], ...] = ()  # (watched input, its output after this chunk)
    # per watched input: share of its gate values below 0.1 or above 0.9 (gates.saturation);
    # empty after a chunk whose gates were not recomputed (GATES_EVERY)
    gate_saturation: tuple[float, ...] = ()
    # held-out chrF and BLEU of the greedy outputs (0-100), for tasks that score text
    chrf: float | None = None
    bleu: float | None = None


@dataclass(frozen=True)
class LivePrediction:
    input: str
    expected: str
    predicted: str
    correct: bool


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the trainer's state for a page to draw."""

    status: Status
    reason: str
    history: tuple[ChunkRecord, ...]
    live: tuple[LivePrediction, ...]
    samples_seen: int
    train_seconds: float
    progress: float
    seconds_left: float | None
    error: str = ""
    device: str = ""  # where it trains: "CPU (2 cores) on host", "GPU: NVIDIA H200 on host"
    cells: tuple = ()  # gates.CellTrace of each watched input after the latest chunk

    @property
    def latest(self) -> ChunkRecord | None:
        return self.history[-1] if self.history else None


class Background:
    """A daemon thread owned by an object: launch it, join it, ask whether it is alive."""

    _thread: threading.Thread | None = None

    def _launch(self, target, name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@dataclass
class _Control:
    """Stop, pause and single steps. `running` is set while training may go on; a step
    asked for while paused sets it for one batch (`step_asked`), and the trainer clears
    it again once it took the step."""

    stop: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    step_asked: bool = False


def check_watched(task, texts) -> tuple[str, ...]:
    """Watched inputs, each checked by the task (its own message for a bad one), at most
    MAX_WATCHED of them, without repeats, in the order given."""
    texts = [t for t in texts if str(t).strip()]
    if len(texts) > MAX_WATCHED:
        raise InvalidInput(f"Watch at most {MAX_WATCHED} inputs; got {len(texts)}.")
    out: list[str] = []
    for text in texts:
        try:
            clean = task.validate(str(text))
        except InvalidInput as err:
            raise InvalidInput(f"Watched input {str(text)[:40]!r}: {err}") from None
        if clean not in out:
            out.append(clean)
    return tuple(out)


def snapshot_of(config: TrainConfig, status: Status, reason: str, history, live, seen: int,
                secs: float, error: str = "", device: str = "", cells=()) -> Snapshot:
    """A Snapshot with its progress and time left worked out from the budgets (shared by
    the in-process Trainer and the handles of trainings that run elsewhere)."""
    history, live = tuple(history), tuple(live)
    progress = min(1.0, max(seen / config.max_samples, secs / config.max_seconds))
    left = None
    if history and seen:
        rate = seen / max(secs, 1e-9)
        left = max(0.0, min((config.max_samples - seen) / rate, config.max_seconds - secs))
    if status.keeps_model:
        progress = 1.0 if status == Status.FINISHED else progress
        left = 0.0
    return Snapshot(status, reason, history, live, seen, secs, progress, left, error, device,
                    tuple(cells))


class Trainer(Background):
    """Trains one Seq2Seq model in chunks; start/pause/resume/stop from any thread.

    It is the in-process implementation of the job protocol (`jobs.TrainingJob`). `after`,
    when given, is called with the trained model in the training thread once a run finishes
    (not when stopped or failed); its value is `outcome` (a study scores its models so).
    """

    executor = "local"

    def __init__(self, model: Seq2Seq, config: TrainConfig | None = None, after=None):
        self.model = model
        self.config = config or TrainConfig()
        self.after = after
        self.outcome = None
        self.rng = np.random.default_rng(self.config.seed)
        clip = self.config.clipnorm or None
        self.optimizer = keras.optimizers.Adam(learning_rate(self.config), clipnorm=clip)
        self.optimizer.build(model.train_model.trainable_variables)
        self.steps = TrainSteps(model.train_model, self.optimizer, self.config.compiler,
                                bucketed=model.task.bucketed)
        self.feeder = Feeder(model, self.config, self.rng)
        self._ctl = _Control()
        self._ctl.running.set()
        self.history: list[ChunkRecord] = []
        self.live: list[LivePrediction] = []
        self.cells: tuple = ()
        self._cells: tuple = ()
        self._gates_at = 0.0  # training seconds when the watched inputs' gates were last computed
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.status = Status.READY
        self.reason = ""
        self.error = ""
        self.watched: tuple[str, ...] = ()

    @classmethod
    def of(cls, training) -> "Trainer":
        """The trainer of a `jobs.Training`, with its watched inputs."""
        trainer = cls(training.build(), training.train_config, after=training.after)
        trainer.watch(training.watched)
        return trainer

    # ---- the job protocol's description of the run --------------------------------------
    @property
    def task(self):
        return self.model.task

    @property
    def model_config(self):
        return self.model.config

    @property
    def train_config(self) -> TrainConfig:
        return self.config

    @property
    def params(self) -> int:
        return self.model.count_params()

    @property
    def device(self) -> str:
        from .devices import device_name
        return device_name()

    def result(self) -> bytes:
        """The trained model as `.s2s` bytes (persistence.to_bytes)."""
        from .persistence import to_bytes
        return to_bytes(self.model)

    def watch(self, texts) -> None:
        """Inputs to re-decode after every chunk (replacing the earlier ones); each checked
        by the task first (InvalidInput)."""
        clean = check_watched(self.model.task, texts)
        with self._ctl.lock:
            self.watched = clean

    # ---- one chunk ----------------------------------------------------------------------
    def _wait_while_paused(self) -> bool:
        """Block while paused, between chunks; True when woken for a single step
        (`step_batch`), after which it is paused again."""
        ctl = self._ctl
        ctl.running.wait()
        with ctl.lock:
            single, ctl.step_asked = ctl.step_asked, False
            if single and not ctl.stop.is_set():
                ctl.running.clear()
        return single

    def run_chunk(self, single: bool = False) -> ChunkRecord:
        """Train one chunk (`single`: one batch), then score on held-out examples; returns
        and records the result.

        Stop, pause and the time budget act between batches, so a large chunk never holds
        them up: the chunk ends there, and is scored and recorded like a whole one (so a
        paused run shows everything it trained, and a step is a chunk of one batch).
        """
        losses, accs, seen, ctl = [], [], 0, self._ctl
        began = time.perf_counter()
        for _ in range(1 if single else self.config.chunk_batches):
            if losses:
                spent = self.train_seconds + time.perf_counter() - began
                if ctl.stop.is_set() or not ctl.running.is_set() or ctl.step_asked \
                        or spent >= self.config.max_seconds:
                    break
            inputs, targets, weights = self.feeder.next_batch()
            loss, acc = self.steps(inputs, targets, weights)
            losses.append(loss)
            accs.append(acc)
            seen += int(targets.shape[0])
        losses = [float(x) for x in losses]
        accs = [float(x) for x in accs]
        spent = time.perf_counter() - began
        trained_with, left = self.steps.kind, self._seconds_left(spent, seen)
        self.steps.after_chunk(seen, spent, self.train_seconds + spent, left)
        last = self._ctl.stop.is_set() or left <= 0
        record = self._evaluate(len(self.history) + 1, losses, accs, seen, spent, last)
        with self._ctl.lock:
            self.samples_seen += seen
            self.train_seconds += spent
            record = replace(record, samples_seen=self.samples_seen,
                             train_seconds=self.train_seconds, compiler=trained_with)
            self.history.append(record)
            self.cells = self._cells
        return record

    def _seconds_left(self, spent: float, seen: int) -> float:
        """The seconds of training the budgets still allow, at this chunk's speed."""
        cfg = self.config
        left = cfg.max_seconds - self.train_seconds - spent
        if seen:
            left = min(left, (cfg.max_samples - self.samples_seen - seen) * spent / seen)
        return max(0.0, left)

    @staticmethod
    def scored_count(seen: int, available: int) -> int:
        """How many held-out examples the check after a chunk of `seen` examples scores."""
        return min(available, max(MIN_SCORED, ceil(SCORED_PER_SAMPLE * seen)))

    def _evaluate(self, index, losses, accs, seen, spent, last=False) -> ChunkRecord:
        """Score the chunk on the held-out examples, in one compiled call per EVAL_BATCH rows.

        The first `scored_count` examples are scored; all of them after the run's `last`
        chunk and when a target is set and the score is within NEAR_TARGET of it, so a run
        stops at its target, and ends with its numbers, on the whole held-out set as before.
        """
        task, cfg = self.model.task, self.config
        pairs = task.held_out(cfg.eval_samples, seed=cfg.seed + 7919 * index)
        began = time.perf_counter()
        count = len(pairs) if last else self.scored_count(seen, len(pairs))
        with self._ctl.lock:
            watched = self.watched
        parts = [self._check(pairs, 0, count, task.encode_inputs(list(watched)))]
        outputs = [task.target_text(row) for row in parts[0][3]]
        part = self._score(pairs, parts)
        if count < len(pairs) and cfg.target_accuracy is not None \
                and part.exact_match >= cfg.target_accuracy - NEAR_TARGET:
            parts.append(self._check(pairs, count, len(pairs)))
            part = self._score(pairs, parts)
        reached = cfg.target_accuracy is not None and part.exact_match >= cfg.target_accuracy
        due = last or reached or len(losses) < cfg.chunk_batches or \
            self.train_seconds + spent - self._gates_at >= GATES_EVERY
        cells = cell_traces(self.model, watched, parts[0][3]) if watched and due else None
        if cells is not None:
            self._gates_at = self.train_seconds + spent
        took = time.perf_counter() - began
        result, val_loss = part, sum(p[1] for p in parts) / max(sum(p[2] for p in parts), 1.0)
        live = [LivePrediction(task.source_text(pairs.source[i]), task.target_text(pairs.target[i]),
                               task.target_text(result.predicted[i]), bool(result.exact[i]))
                for i in range(min(LIVE_SAMPLES, result.samples))]
        with self._ctl.lock:
            self.live = live
        if cells is not None or not watched:
            self._cells = cells or ()  # published with the record (run_chunk), never ahead
        return ChunkRecord(index, 0, 0.0, tuple(losses), tuple(accs), float(np.mean(losses)),
                           float(np.mean(accs)), float(val_loss), result.token_accuracy,
                           result.exact_match, seen / max(spent, 1e-9), result.samples, took,
                           position_accuracy=tuple(float(x) for x in result.per_position),
                           watched=tuple(zip(watched, outputs)),
                           gate_saturation=tuple(c.saturation() for c in cells or ()),
                           chrf=result.chrf, bleu=result.bleu)

    def _check(self, pairs, start: int, stop: int, extra=None):
        """Greedy ids, summed loss and summed weights of pairs[start:stop], then the greedy
        ids of `extra` (raw source ids: the watched inputs, decoded in the same calls at no
        weight, so watching costs no decode of its own)."""
        check, model = self.model.functions.check, self.model
        source, target = pairs.source[start:stop], pairs.target[start:stop]
        weights = model.task.target_mask(target)
        m = 0 if extra is None else len(extra)
        if m:
            blank = np.zeros((m, target.shape[1]), target.dtype)
            source, target = np.concatenate([extra, source]), np.concatenate([blank, target])
            weights = np.concatenate([blank.astype(weights.dtype), weights])
        ids, loss, total = [np.zeros((0, model.task.target_len), np.int32)], 0.0, 0.0
        for i in range(0, len(source), EVAL_BATCH):
            sl = slice(i, i + EVAL_BATCH)
            inputs = model.model_inputs(source[sl], target[sl])
            inputs = [tf.constant(x) for x in inputs] if isinstance(inputs, list) \
                else tf.constant(inputs)
            out = check(inputs, tf.constant(target[sl]), tf.constant(weights[sl]))
            ids.append(out[0].numpy())
            loss, total = loss + float(out[1]), total + float(out[2])
        ids = np.concatenate(ids)
        return ids[m:], loss, total, ids[:m]

    def _score(self, pairs, parts):
        predicted = np.concatenate([p[0] for p in parts])
        n = len(predicted)
        scored = Pairs(pairs.source[:n], pairs.target[:n])
        return score_predicted(self.model, scored, predicted, max_mistakes=0)

    # ---- the loop -------------------------------------------------------------------------
    def _done_reason(self) -> str:
        cfg = self.config
        last = self.history[-1] if self.history else None
        if cfg.target_accuracy is not None and last and last.exact_match >= cfg.target_accuracy:
            return f"reached {last.exact_match:.1%} exact match"
        if self.samples_seen >= cfg.max_samples:
            return f"trained on {self.samples_seen:,} samples"
        if self.train_seconds >= cfg.max_seconds:
            return f"used the time budget of {cfg.max_seconds:.0f} s"
        return ""

    def run(self, on_chunk=None) -> str:
        """Train in this thread until a budget, the target or stop(); returns why it ended."""
        self.status = Status.RUNNING
        try:
            while True:
                single = self._wait_while_paused()
                reason = "stopped by the user" if self._ctl.stop.is_set() else self._done_reason()
                if reason:
                    self._end(Status.STOPPED if self._ctl.stop.is_set() else Status.FINISHED,
                              reason)
                    break
                record = self.run_chunk(single)
                if on_chunk:
                    on_chunk(record)
            if self.after is not None and self.status == Status.FINISHED:
                self.outcome = self.after(self.model)
        except Exception as err:  # noqa: BLE001 - reported to the page, never raised into it
            self.error = f"{type(err).__name__}: {err}"
            self._end(Status.FAILED, "training failed")
        return self.reason

    def _end(self, status: Status, reason: str) -> None:
        """The final status, set under the lock so a pause racing the end never hides it."""
        with self._ctl.lock:
            self.status, self.reason = status, reason

    def start(self, on_chunk=None, on_end=None) -> None:
        """Train in a daemon thread; `on_chunk(record)` after each chunk, `on_end()` at the end.

        The callbacks run in the training thread (e.g. a run-history recorder), never UI code.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._ctl.stop.clear()
        self._ctl.running.set()
        self.status = Status.RUNNING

        def work():
            self.run(on_chunk)
            if on_end is not None:
                on_end()
        self._launch(work, "seq2seq-trainer")

    def pause(self) -> None:
        with self._ctl.lock:
            if self.is_alive and self.status == Status.RUNNING:
                self._ctl.running.clear()
                self.status = Status.PAUSED

    def resume(self) -> None:
        with self._ctl.lock:
            self._ctl.step_asked = False
            if self.status == Status.PAUSED:
                self.status = Status.RUNNING
            self._ctl.running.set()

    def step_batch(self) -> bool:
        """While paused: train exactly one more batch, score it as a chunk of its own and
        stay paused. False if not paused."""
        with self._ctl.lock:
            if self.status != Status.PAUSED or not self.is_alive or self._ctl.step_asked:
                return False
            self._ctl.step_asked = True
            self._ctl.running.set()
        return True

    def stop(self) -> None:
        self._ctl.stop.set()
        self._ctl.running.set()

    def snapshot(self) -> Snapshot:
        with self._ctl.lock:
            history, live = tuple(self.history), tuple(self.live)
            seen, secs, cells = self.samples_seen, self.train_seconds, self.cells
        return snapshot_of(self.config, self.status, self.reason, history, live, seen, secs,
                           self.error, self.device, cells)
