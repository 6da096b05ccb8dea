"""The learning rate a run trains with: a constant, or Keras' own warm-up and cosine decay.

The schedule's length is the run's samples budget in steps, so the decay ends where the
budget does; a run that reaches its target earlier simply stops on the way down. Keras'
`CosineDecay` holds the warm-up too, so the exported script (`export.py`, which writes
these numbers again for its own reader) builds the same schedule.
"""
from __future__ import annotations

from math import ceil

import keras

from .config import TrainConfig

WARMUP_SHARE = 0.05   # of the budget's steps, climbing from WARMUP_START x the rate,
WARMUP_MAX_STEPS = 500  # but never longer: a huge budget must not mean a long crawl
WARMUP_START = 0.1
FLOOR = 0.02          # the decay ends at this share of the learning rate


def schedule_steps(config: TrainConfig) -> tuple[int, int]:
    """(warm-up steps, decay steps) of a warm-up-and-cosine run."""
    steps = max(2, ceil(config.max_samples / config.batch_size))
    warm = max(1, min(WARMUP_MAX_STEPS, int(steps * WARMUP_SHARE)))
    return warm, steps - warm


def learning_rate(config: TrainConfig):
    """What `keras.optimizers.Adam(learning_rate=...)` gets for this run."""
    if config.schedule == "constant":
        return config.learning_rate
    warm, decay = schedule_steps(config)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * WARMUP_START, decay_steps=decay,
        alpha=FLOOR, warmup_target=config.learning_rate, warmup_steps=warm)
