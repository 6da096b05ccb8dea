"""The training examples whose encoder final states lie nearest a typed input's
(Seq2Seq-Vis' neighbourhood view): what the model "thinks" the input is like.

The pool is the task's training examples: a corpus task's training pairs, or for a generated
task a fixed-seed sample of its "train" split (it draws fresh examples every batch, so these
are examples like those it trained on, not the very ones), identical inputs kept once. Their
final hidden states (the top encoder layer's, as the PCA map of `inspection` uses) are
computed once per model, in batches, by the compiled `model.functions.encoder_states`.

A query is plain numpy brute force: one pass over at most `POOL` states. Measured on 2
shared CPU cores (the fast-demo models, untrained, which costs the same as trained): drawing
20,000 examples and encoding the distinct ones takes 0.4-0.6 s for reverse (128 units,
20,000 distinct inputs, 9.8 MB of states) and 0.05 s for addition (75 units; only 1,000
distinct inputs), 1.2 s for dates; one query (k=5, with the greedy outputs of the 5) takes
5-7 ms for reverse, 1.2 ms for addition, of which the distances are 1.8 ms. No approximate
index is needed at this size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from .budget import EVAL_BATCH
from .decoding import Decoder
from .inspection import FLOAT, final_states
from .limits import check_int
from .settings import check_fields, setting
from .tasks.base import Pairs

if TYPE_CHECKING:
    from .models import Seq2Seq

POOL = 20_000               # examples drawn for the pool, at most
POOL_SEED = 0               # the draw of a generated task's pool
POOL_BYTES = 16 * 2 ** 20   # the pool's states, at most (a wide encoder keeps fewer examples)


@dataclass(frozen=True)
class NeighbourSettings:
    """How many nearest training examples Inspect lists."""

    k: int = setting(5, "Nearest examples", low=1, high=50, step=1,
                     help="How many training examples to list, nearest first.")

    def __post_init__(self):
        check_fields(self)


@dataclass(frozen=True)
class Neighbour:
    """One pool example near the query: its input, the model's output for it, the expected
    output and the Euclidean distance between the two final hidden states.

    `state` is the example's final hidden state, for drawing it on the map of final states.
    """

    input: str
    output: str
    expected: str
    distance: float
    state: np.ndarray | None = field(default=None, compare=False, repr=False)


def pool_limit(model: Seq2Seq) -> int:
    """How many examples this model's pool may keep: POOL, fewer for wide encoders."""
    return int(max(1, min(POOL, POOL_BYTES // (model.config.state_units * FLOAT))))


def training_examples(model: Seq2Seq, n: int) -> Pairs:
    """Up to `n` training examples: a corpus task's training pairs (in corpus order), or a
    fixed-seed sample of a generated task's "train" split."""
    task = model.task
    if not task.generated and hasattr(task, "split_pairs"):
        return task.encode_pairs(task.split_pairs("train")[:n])
    return task.sample(np.random.default_rng(POOL_SEED), n, "train")


def first_of_each(source: np.ndarray) -> np.ndarray:
    """Row numbers of the first occurrence of every distinct row, in the order drawn."""
    if not len(source):
        return np.zeros(0, dtype=int)
    rows = np.ascontiguousarray(source)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    return np.sort(np.unique(keys, return_index=True)[1])


@dataclass(frozen=True, eq=False)
class NeighbourIndex:
    """One model's pool: distinct training inputs (`source`, raw ids), their expected
    outputs (`target`) and final hidden states (`states`, float32). `drawn` counts the
    examples drawn before identical inputs were dropped."""

    model: Seq2Seq = field(repr=False)
    source: np.ndarray
    target: np.ndarray
    states: np.ndarray
    drawn: int

    @classmethod
    def build(cls, model: Seq2Seq, pool: int = POOL) -> NeighbourIndex:
        """Draw up to `pool` training examples (1..POOL; fewer for a wide encoder, see
        `pool_limit`), keep each distinct input once and encode them."""
        check_int("The pool size", pool, 1, POOL)
        pairs = training_examples(model, min(pool, pool_limit(model)))
        keep = first_of_each(pairs.source)
        source, target = pairs.source[keep], pairs.target[keep]
        return cls(model, source, target, final_states(model, source), len(pairs))

    def __len__(self) -> int:
        return len(self.source)

    def row_of(self, text: str) -> int | None:
        """The pool row holding this (valid) typed input, or None when it is not in the pool."""
        row = self.model.task.encode_inputs([text])[0]
        hits = np.flatnonzero((self.source == row).all(axis=1))
        return int(hits[0]) if len(hits) else None

    def distances(self, state: np.ndarray) -> np.ndarray:
        """Euclidean distance from `state` to every pool state, one chunk of rows at a time."""
        q = np.asarray(state, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.states.shape[1]:
            raise ValueError(f"a state of {q.shape[0]} numbers for a pool of "
                             f"{self.states.shape[1]}-number states")
        out = np.empty(len(self.states), dtype=np.float32)
        for i in range(0, len(self.states), EVAL_BATCH):
            d = self.states[i:i + EVAL_BATCH] - q
            out[i:i + EVAL_BATCH] = np.sqrt(np.einsum("ij,ij->i", d, d))
        return out

    def query(self, state: np.ndarray, k: int = NeighbourSettings.k) -> tuple[Neighbour, ...]:
        """The `k` pool examples nearest `state`, nearest first (ties in pool order)."""
        NeighbourSettings(k=k)
        dist = self.distances(state)
        k = min(k, len(dist))
        near = np.argpartition(dist, k - 1)[:k] if k < len(dist) else np.arange(len(dist))
        near = near[np.lexsort((near, dist[near]))]
        task = self.model.task
        outputs = Decoder(self.model).predict_ids(self.source[near])
        return tuple(Neighbour(task.source_text(self.source[i]), task.target_text(out),
                               task.target_text(self.target[i]), float(dist[i]), self.states[i])
                     for i, out in zip(near, outputs))

    def typical_distance(self, pairs: int = 2000) -> float:
        """The median distance between two pool states (a fixed-seed sample of pairs): the
        scale against which a distance reads as near or far; NaN for a pool of one."""
        if len(self) < 2:
            return float("nan")
        rng = np.random.default_rng(POOL_SEED)
        a, b = rng.integers(0, len(self), size=(2, pairs))
        a, b = a[a != b], b[a != b]
        return float(np.median(np.linalg.norm(self.states[a] - self.states[b], axis=1)))

    def state_of(self, text: str) -> np.ndarray:
        """A typed input's final hidden state: the pool's own when the input is in the pool
        (same input, same state, so it is found at distance 0), else computed."""
        row = self.row_of(text)
        if row is not None:
            return self.states[row]
        return final_states(self.model, self.model.task.encode_inputs([text]))[0]

    def nearest(self, text: str, k: int = NeighbourSettings.k) -> tuple[Neighbour, ...]:
        """The `k` pool examples nearest a typed input (InvalidInput for an invalid one)."""
        NeighbourSettings(k=k)
        return self.query(self.state_of(self.model.task.validate(text)), k)


def nearest(model: Seq2Seq, text: str, k: int = NeighbourSettings.k,
            pool: int = POOL) -> tuple[Neighbour, ...]:
    """The `k` (1..50) training examples whose final hidden states are nearest the typed
    input's, nearest first. Builds the pool each call: keep a `NeighbourIndex` to query often."""
    NeighbourSettings(k=k)
    clean = model.task.validate(text)
    return NeighbourIndex.build(model, pool).nearest(clean, k)


__all__ = ["POOL", "Neighbour", "NeighbourIndex", "NeighbourSettings", "nearest",
           "pool_limit", "training_examples"]
