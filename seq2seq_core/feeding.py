"""A run's training batches, drawn a chunk at a time and handed out as tensors.

The feeder draws exactly what the trainer drew itself before it existed, in the same order
from the same generator: chunks of `chunk_batches` batches, sampled at most DRAW_ROWS rows
at a time, so a seed still gives the same batches and memory holds one draw. Each draw is
turned into ready tensors at once, so the step loop only takes the next one.

A bucketed task's draw (translation: sentences of many lengths) is sorted by length and
cut into batches that are each padded only to their own longest sentence, then shuffled:
padded to the corpus' longest, most of a decoder's steps would compute padding.

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


XLA_MULTIPLE = 8


def lengths(source: np.ndarray, pad: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's source tokens (left-padded: the content ends at the last step) and
    counted target steps (up to and including the end symbol)."""
    return (source != pad).sum(axis=1), (weights > 0).sum(axis=1)


def buckets(source: np.ndarray, pad: int, weights: np.ndarray, batch_size: int,
            rng: np.random.Generator) -> list:
    """The rows of a draw cut into batches of similar lengths, in a random order: sorted
    by target length, then source length, so each batch pads little (length bucketing)."""
    src, tgt = lengths(source, pad, weights)
    order = np.lexsort((src, tgt))
    rows = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [rows[i] for i in rng.permutation(len(rows))]


def _width(longest: int, full: int, multiple: int) -> int:
    return min(full, -(-max(longest, 1) // multiple) * multiple)


def cut(model, source: np.ndarray, target: np.ndarray, weights: np.ndarray,
        multiple: int = 1):
    """A batch cut to its own longest sentence (rounded up to a `multiple` of steps): the
    source's leading padding and the target's steps after its longest end symbol dropped.
    A repeat network writes a fixed number of steps, so its target keeps them all; tasks
    that are not bucketed keep both."""
    if not model.task.bucketed:
        return source, target, weights
    src, tgt = lengths(source, model.task.source_vocab.pad, weights)
    source = source[:, source.shape[1] - _width(int(src.max()), source.shape[1], multiple):]
    if model.config.feeds_back:
        keep = _width(int(tgt.max()), target.shape[1], multiple)
        target, weights = target[:, :keep], weights[:, :keep]
    return source, target, weights


def _tensors(value):
    if isinstance(value, (list, tuple)):
        return [tf.constant(v) for v in value]
    return tf.constant(value)


class Feeder:
    """Hands out a run's training batches `(inputs, targets, weights)` as tensors.

    A bucketed task's batches vary in length. The graph step is traced for any length
    after its second trace (`reduce_retracing`; a smaller batch costs a third); XLA compiles
    once per shape, so with XLA the lengths are rounded up to XLA_MULTIPLE steps, which
    keeps the shapes few.
    """

    def __init__(self, model, config: TrainConfig, rng: np.random.Generator):
        self._model, self._config, self._rng = model, config, rng
        self.multiple = XLA_MULTIPLE if config.compiler == "xla" else 1
        self._sizes = draw_sizes(config)
        self._current: list = []

    def draw(self, count: int) -> list:
        """The next `count` batches from the generator, as tensors."""
        cfg, model = self._config, self._model
        pairs = model.task.sample(self._rng, cfg.batch_size * count, "train")
        weights = model.task.target_mask(pairs.target)
        if model.task.bucketed:
            rows = buckets(pairs.source, model.task.source_vocab.pad, weights,
                           cfg.batch_size, self._rng)
        else:
            rows = [slice(i, i + cfg.batch_size) for i in range(0, len(pairs), cfg.batch_size)]
        batches = []
        for picked in rows:
            source, target, weight = cut(model, pairs.source[picked], pairs.target[picked],
                                         weights[picked], self.multiple)
            batches.append((_tensors(model.model_inputs(source, target)),
                            tf.constant(target), tf.constant(weight)))
        return batches

    def next_batch(self):
        if not self._current:
            self._current = list(reversed(self.draw(next(self._sizes))))
        return self._current.pop()
