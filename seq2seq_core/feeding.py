"""A run's training batches, drawn in a background thread while the current ones train.

The feeder draws exactly what the trainer drew itself before it existed, in the same order
from the same generator: chunks of `chunk_batches` batches, sampled at most DRAW_ROWS rows
at a time. So a seed still gives the same batches, and at most AHEAD draws wait in memory.
Batches come out as tensors, ready for the compiled step.
"""
from __future__ import annotations

import queue
import threading

import numpy as np
import tensorflow as tf

from .budget import DRAW_ROWS
from .config import TrainConfig

AHEAD = 2
_FAILED = object()


def draw_sizes(config: TrainConfig):
    """Batches per draw, chunk after chunk, for ever: [per_draw, ..., rest], [per_draw, ...]."""
    per_draw = max(1, DRAW_ROWS // config.batch_size)
    while True:
        left = config.chunk_batches
        while left > 0:
            count = min(per_draw, left)
            left -= count
            yield count


def _tensors(value):
    if isinstance(value, (list, tuple)):
        return [tf.constant(v) for v in value]
    return tf.constant(value)


class Feeder:
    """Yields a run's training batches `(inputs, targets, weights)` as tensors, drawn ahead.

    `next_batch()` blocks only while the next draw is not ready; `close()` ends the thread.
    An error while drawing is raised by `next_batch()`.
    """

    def __init__(self, model, config: TrainConfig, rng: np.random.Generator):
        self._model, self._config, self._rng = model, config, rng
        self._queue: queue.Queue = queue.Queue(maxsize=AHEAD)
        self._closed = threading.Event()
        self._error: Exception | None = None
        self._current: list = []
        self._thread = threading.Thread(target=self._produce, name="seq2seq-feeder",
                                        daemon=True)
        self._thread.start()

    def _draw(self, count: int) -> list:
        cfg, model = self._config, self._model
        pairs = model.task.sample(self._rng, cfg.batch_size * count, "train")
        weights = model.task.target_mask(pairs.target)
        batches = []
        for i in range(0, len(pairs), cfg.batch_size):
            sl = slice(i, i + cfg.batch_size)
            batches.append((_tensors(model.model_inputs(pairs.source[sl], pairs.target[sl])),
                            tf.constant(pairs.target[sl]), tf.constant(weights[sl])))
        return batches

    def _put(self, item) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for count in draw_sizes(self._config):
                if not self._put(self._draw(count)):
                    return
        except Exception as err:  # noqa: BLE001 - handed to the trainer, which reports it
            self._error = err
            self._put(_FAILED)

    def next_batch(self):
        if not self._current:
            item = self._queue.get()
            if item is _FAILED:
                raise self._error
            self._current = list(reversed(item))
        return self._current.pop()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2.0)
