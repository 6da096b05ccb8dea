"""Looking inside the encoder: its state at every input step, and a 2-D map of final states."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from .budget import EVAL_BATCH

if TYPE_CHECKING:
    from .models import Seq2Seq

FLOAT = 4                   # bytes of a float32 state value
BATCH_BYTES = 64 * 2 ** 20  # per-step encoder states computed at once, at most


@dataclass(frozen=True)
class EncoderStates:
    """Per-step encoder states, (layers, batch, steps, units); `cell` is None for GRU.

    `final_hidden`/`final_cell` (batch, units) are the top layer's final states: the last
    step's, or for a bidirectional encoder the forward last step's joined to the backward
    direction's state after it has read the whole input (its first step).
    """

    hidden: np.ndarray
    cell: np.ndarray | None
    final_hidden: np.ndarray
    final_cell: np.ndarray | None

    def final(self, row: int) -> dict:
        """The top layer's final state for one input: {'h': ..., 'c': ...}."""
        out = {"h": self.final_hidden[row]}
        if self.final_cell is not None:
            out["c"] = self.final_cell[row]
        return out


def encoder_states(model: Seq2Seq, source: np.ndarray) -> EncoderStates:
    """Hidden (and, for LSTM, cell) state of every encoder layer after every input step."""
    src = model.prepare_source(np.asarray(source, dtype=np.int32))
    return states_from([t.numpy() for t in model.functions.encoder_states(tf.constant(src))])


def final_states(model: Seq2Seq, source: np.ndarray) -> np.ndarray:
    """The top encoder layer's final hidden state (n, state units) of raw source ids, in
    batches small enough that the per-step states of one batch stay within BATCH_BYTES."""
    source = np.asarray(source, dtype=np.int32)
    task, config = model.task, model.config
    per_row = task.source_len * config.state_units * config.layers * model.nets.n_states * FLOAT
    batch = int(min(EVAL_BATCH, max(1, BATCH_BYTES // per_row)))
    run, top = model.functions.encoder_states, -model.nets.n_states
    src = model.prepare_source(source)
    parts = [run(tf.constant(src[i:i + batch]))[top].numpy() for i in range(0, len(src), batch)]
    if not parts:
        return np.zeros((0, config.state_units), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def states_from(out: list[np.ndarray]) -> EncoderStates:
    """EncoderStates from the arrays `ModelFunctions.encoder_states` returns."""
    if len(out) == 4:
        return EncoderStates(out[0], out[1], out[2], out[3])
    return EncoderStates(out[0], None, out[1], None)


@dataclass(frozen=True)
class Projection:
    """Final encoder states of many inputs projected on their first two principal components."""

    coords: np.ndarray
    explained: np.ndarray
    texts: list[str]
    values: np.ndarray
    property_name: str
    mean: np.ndarray
    components: np.ndarray

    def place(self, state: np.ndarray) -> np.ndarray:
        """Project another final state (e.g. the typed input's) into the same plane."""
        return (np.asarray(state) - self.mean) @ self.components.T


def pca(matrix: np.ndarray, k: int = 2):
    """Principal components by SVD, each sign fixed so its largest loading is positive."""
    mean = matrix.mean(axis=0)
    _, sing, vt = np.linalg.svd(matrix - mean, full_matrices=False)
    comps = vt[:k]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    var = sing ** 2
    explained = var[:k] / var.sum() if var.sum() > 0 else np.zeros(len(comps))
    return mean, comps, explained


def project_final_states(model: Seq2Seq, n: int = 300, seed: int = 0) -> Projection:
    """PCA of the top encoder layer's final hidden state over `n` task inputs."""
    task = model.task
    source = task.map_inputs(n, seed).source
    finals = final_states(model, source)
    mean, comps, explained = pca(finals)
    name, values = task.property_of(source)
    return Projection((finals - mean) @ comps.T, explained,
                      [task.source_text(r) for r in source], values, name, mean, comps)
