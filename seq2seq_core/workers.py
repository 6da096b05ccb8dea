"""What runs inside a Ray worker process: one long-lived trainer of many trainings in turn.

`executors.RayExecutor` wraps `TrainingWorker` as a Ray actor. A worker pays for its
TensorFlow import once and then trains one `jobs.Training` after another; the driver polls
`poll()` for the chunks trained since its last call. This module never imports Ray.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .status import Status


@dataclass(frozen=True)
class WorkerState:
    """What a driver learns from one poll: the chunks after the first `known`, and the rest."""

    status: Status
    reason: str
    error: str
    records: tuple  # ChunkRecords after the ones the driver has
    live: tuple
    samples_seen: int
    train_seconds: float
    device: str
    control: int = 0  # the last pause/resume/stop this worker has applied (its number)
    cells: tuple = ()  # the watched inputs' gates after the latest chunk, when it is new


class TrainingWorker:
    """Trains one Training at a time in a thread of the worker; every call is quick."""

    def __init__(self, threads: int = 0):
        import tensorflow as tf

        from .devices import share_gpus

        if threads > 0:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        share_gpus()
        self.trainer = None
        self.trained = 0
        self.control_seq = self.watch_seq = 0
        self.stopped = False

    def pid(self) -> int:
        return os.getpid()

    def device(self) -> str:
        from .devices import device_name
        return device_name()

    def begin(self, training) -> tuple[str, int]:
        """Build the network and start training it; returns the device it trains on and
        the training's number on this worker (controls name it)."""
        import keras

        from .training import Trainer

        if self.trainer is not None and self.trainer.is_alive:
            raise RuntimeError("this worker is already training")
        if self.trained:
            keras.backend.clear_session()  # nothing else trains in this process
        self.trainer = Trainer.of(training)
        self.trained += 1
        self.control_seq, self.watch_seq, self.stopped = 0, 0, False
        self.trainer.start()
        return self.device(), self.trained

    def poll(self, known: int) -> WorkerState:
        t = self.trainer
        snap = t.snapshot()
        new = snap.history[known:]
        return WorkerState(snap.status, snap.reason, snap.error, new, snap.live,
                           snap.samples_seen, snap.train_seconds, snap.device, self.control_seq,
                           snap.cells if new else ())

    def control(self, number: int, seq: int, action: str) -> None:
        """Pause, resume, step one batch or stop training `number`, numbered `seq` by the driver: calls to a
        threaded actor may run out of order, so an older pause or resume than the last one
        applied is dropped, nothing undoes a stop, and a late call for an earlier training
        of this worker is ignored."""
        if self.trainer is None or number != self.trained:
            return
        if action == "stop":
            self.stopped = True
            self.trainer.stop()
        elif seq > self.control_seq and not self.stopped:
            if action == "resume":
                self.trainer.resume()
            else:  # a step is only ever sent paused: it may overtake the pause it follows
                self.trainer.pause()
                if action == "step":
                    self.trainer.step_batch()
        self.control_seq = max(self.control_seq, seq)

    def watch(self, number: int, seq: int, texts) -> None:
        """Watch these inputs in training `number`, numbered `seq` by the driver (an older
        list than the last one applied, or a late call for an earlier training: ignored)."""
        if self.trainer is not None and number == self.trained and seq > self.watch_seq:
            self.watch_seq = seq
            self.trainer.watch(texts)

    def finish(self, known: int, keep_model: bool):
        """Wait for the training to end; (last state, outcome, .s2s bytes or None)."""
        t = self.trainer
        t.join()
        state = self.poll(known)
        data = t.result() if keep_model and state.status.keeps_model and t.samples_seen else None
        outcome = t.outcome
        self.trainer = None
        return state, outcome, data
