"""Training in chunks, in the caller's thread or a background one, with true per-batch metrics.

The trainer never touches any UI: a page reads `snapshot()` while the thread runs.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from .budget import DRAW_ROWS, EVAL_BATCH
from .config import TrainConfig
from .evaluation import score
from .models import Seq2Seq
from .status import Status

LIVE_SAMPLES = 8


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

    @property
    def latest(self) -> ChunkRecord | None:
        return self.history[-1] if self.history else None


def masked_loss_and_accuracy(targets, probs, weights):
    """Mean cross-entropy and token accuracy over the positions that count."""
    ce = keras.ops.sparse_categorical_crossentropy(targets, probs)
    total = tf.maximum(tf.reduce_sum(weights), 1.0)
    hits = tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), targets), tf.float32)
    return tf.reduce_sum(ce * weights) / total, tf.reduce_sum(hits * weights) / total


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
    stop: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def snapshot_of(config: TrainConfig, status: Status, reason: str, history, live, seen: int,
                secs: float, error: str = "", device: str = "") -> Snapshot:
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
    return Snapshot(status, reason, history, live, seen, secs, progress, left, error, device)


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
        self.optimizer = keras.optimizers.Adam(self.config.learning_rate, clipnorm=clip)
        self.optimizer.build(model.train_model.trainable_variables)
        self._train_step = self._compile_train_step()
        self._eval_step = self._compile_eval_step()
        self._ctl = _Control()
        self._ctl.running.set()
        self.history: list[ChunkRecord] = []
        self.live: list[LivePrediction] = []
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.status = Status.READY
        self.reason = ""
        self.error = ""

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

    # ---- compiled steps ---------------------------------------------------------------
    def _compile_train_step(self):
        net, opt = self.model.train_model, self.optimizer
        variables = net.trainable_variables

        @tf.function(reduce_retracing=True)
        def step(inputs, targets, weights):
            with tf.GradientTape() as tape:
                probs = net(inputs, training=True)
                loss, acc = masked_loss_and_accuracy(targets, probs, weights)
            grads = tape.gradient(loss, variables)
            opt.apply(grads, variables)
            return loss, acc
        return step

    def _compile_eval_step(self):
        net = self.model.train_model

        @tf.function(reduce_retracing=True)
        def step(inputs, targets, weights):
            return masked_loss_and_accuracy(targets, net(inputs, training=False), weights)
        return step

    # ---- one chunk ----------------------------------------------------------------------
    def _batches(self):
        """A chunk's batches, sampled at most DRAW_ROWS rows at a time (bounded memory)."""
        cfg, task = self.config, self.model.task
        per_draw = max(1, DRAW_ROWS // cfg.batch_size)
        left = cfg.chunk_batches
        while left > 0:
            count = min(per_draw, left)
            left -= count
            pairs = task.sample(self.rng, cfg.batch_size * count, "train")
            weights = task.target_mask(pairs.target)
            for i in range(0, len(pairs), cfg.batch_size):
                sl = slice(i, i + cfg.batch_size)
                inputs = self.model.model_inputs(pairs.source[sl], pairs.target[sl])
                yield inputs, pairs.target[sl], weights[sl]

    def _wait_while_paused(self) -> float:
        """Block while paused (pause acts within a chunk); returns the seconds waited."""
        if self._ctl.running.is_set():
            return 0.0
        began = time.perf_counter()
        self._ctl.running.wait()
        return time.perf_counter() - began

    def run_chunk(self) -> ChunkRecord:
        """Train one chunk, then score on held-out examples; returns and records the result.

        Stop, pause and the time budget act between batches, so a large chunk never holds
        them up; a chunk cut short is scored and recorded like a whole one.
        """
        losses, accs, seen, paused = [], [], 0, 0.0
        began = time.perf_counter()
        for inputs, targets, weights in self._batches():
            if losses:
                paused += self._wait_while_paused()
                spent = self.train_seconds + time.perf_counter() - began - paused
                if self._ctl.stop.is_set() or spent >= self.config.max_seconds:
                    break
            loss, acc = self._train_step(inputs, tf.constant(targets), tf.constant(weights))
            losses.append(loss)
            accs.append(acc)
            seen += len(targets)
        losses = [float(x) for x in losses]
        accs = [float(x) for x in accs]
        spent = time.perf_counter() - began - paused
        record = self._evaluate(len(self.history) + 1, losses, accs, seen, spent)
        with self._ctl.lock:
            self.samples_seen += seen
            self.train_seconds += spent
            record = ChunkRecord(**{**record.__dict__, "samples_seen": self.samples_seen,
                                    "train_seconds": self.train_seconds})
            self.history.append(record)
        return record

    def _evaluate(self, index, losses, accs, seen, spent) -> ChunkRecord:
        task = self.model.task
        pairs = task.held_out(self.config.eval_samples, seed=self.config.seed + 7919 * index)
        result = score(self.model, pairs, max_mistakes=0)
        val_loss = self._validation_loss(pairs)
        live = [LivePrediction(task.source_text(pairs.source[i]), task.target_text(pairs.target[i]),
                               task.target_text(result.predicted[i]), bool(result.exact[i]))
                for i in range(min(LIVE_SAMPLES, len(pairs)))]
        with self._ctl.lock:
            self.live = live
        return ChunkRecord(index, 0, 0.0, tuple(losses), tuple(accs), float(np.mean(losses)),
                           float(np.mean(accs)), float(val_loss), result.token_accuracy,
                           result.exact_match, seen / max(spent, 1e-9))

    def _validation_loss(self, pairs) -> float:
        """Mean masked loss over the held-out pairs, scored EVAL_BATCH rows at a time."""
        weights = self.model.task.target_mask(pairs.target)
        total, count = 0.0, 0.0
        for i in range(0, len(pairs), EVAL_BATCH):
            sl = slice(i, i + EVAL_BATCH)
            loss, _ = self._eval_step(self.model.model_inputs(pairs.source[sl], pairs.target[sl]),
                                      tf.constant(pairs.target[sl]), tf.constant(weights[sl]))
            share = float(weights[sl].sum())
            total, count = total + float(loss) * share, count + share
        return total / max(count, 1.0)

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
                self._ctl.running.wait()
                if self._ctl.stop.is_set():
                    self.status, self.reason = Status.STOPPED, "stopped by the user"
                    break
                reason = self._done_reason()
                if reason:
                    self.status, self.reason = Status.FINISHED, reason
                    break
                if self.status == Status.PAUSED:
                    self.status = Status.RUNNING
                record = self.run_chunk()
                if on_chunk:
                    on_chunk(record)
            if self.after is not None and self.status == Status.FINISHED:
                self.outcome = self.after(self.model)
        except Exception as err:  # noqa: BLE001 - reported to the page, never raised into it
            self.status, self.reason = Status.FAILED, "training failed"
            self.error = f"{type(err).__name__}: {err}"
        return self.reason

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
        if self.is_alive:
            self._ctl.running.clear()
            self.status = Status.PAUSED

    def resume(self) -> None:
        if self.status == Status.PAUSED:
            self.status = Status.RUNNING
        self._ctl.running.set()

    def stop(self) -> None:
        self._ctl.stop.set()
        self._ctl.running.set()

    def snapshot(self) -> Snapshot:
        with self._ctl.lock:
            history, live = tuple(self.history), tuple(self.live)
            seen, secs = self.samples_seen, self.train_seconds
        return snapshot_of(self.config, self.status, self.reason, history, live, seen, secs,
                           self.error, self.device)
