"""A run's training batches, drawn a chunk at a time and handed out as tensors.

The feeder draws exactly what the trainer drew itself before it existed, in the same order
from the same generator: chunks of `chunk_batches` batches, sampled at most DRAW_ROWS rows
at a time, so a seed still gives the same batches and memory holds one draw. Each draw is
turned into ready tensors at once, so the step loop only takes the next one.

It draws in the training thread, not ahead in another one, by measurement
(`benchmarks/fast_training.py --only feeding`): a draw costs about 0.12 ms a batch for
the addition network (4% of its XLA step); a producer thread drawing ahead was never
faster than that (within this 2-core machine's 10% noise over three runs) and once 22%
slower, when it held the interpreter lock while the step waited for it.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .budget import DRAW_ROWS
from .config import TrainConfig


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
    """Hands out a run's training batches `(inputs, targets, weights)` as tensors."""

    def __init__(self, model, config: TrainConfig, rng: np.random.Generator):
        self._model, self._config, self._rng = model, config, rng
        self._sizes = draw_sizes(config)
        self._current: list = []

    def draw(self, count: int) -> list:
        """The next `count` batches from the generator, as tensors."""
        cfg, model = self._config, self._model
        pairs = model.task.sample(self._rng, cfg.batch_size * count, "train")
        weights = model.task.target_mask(pairs.target)
        batches = []
        for i in range(0, len(pairs), cfg.batch_size):
            sl = slice(i, i + cfg.batch_size)
            batches.append((_tensors(model.model_inputs(pairs.source[sl], pairs.target[sl])),
                            tf.constant(pairs.target[sl]), tf.constant(weights[sl])))
        return batches

    def next_batch(self):
        if not self._current:
            self._current = list(reversed(self.draw(next(self._sizes))))
        return self._current.pop()
