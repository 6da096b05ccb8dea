"""Looking inside the encoder: its state at every input step, and a 2-D map of final states."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from .features import token_features

if TYPE_CHECKING:
    from .models import Seq2Seq


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


def _run_cell(cell, x, n_states: int):
    """Step a recurrent cell over x (batch, steps, features); return all states per step."""
    batch, steps = tf.shape(x)[0], tf.shape(x)[1]
    states = [tf.zeros([batch, cell.units]) for _ in range(n_states)]
    arrays = [tf.TensorArray(tf.float32, size=steps) for _ in range(n_states)]
    for t in tf.range(steps):
        _, new = cell(x[:, t], states, training=False)
        states = list(new) if isinstance(new, (list, tuple)) else [new]
        arrays = [a.write(t, s) for a, s in zip(arrays, states)]
    return [tf.transpose(a.stack(), [1, 0, 2]) for a in arrays]


def _layer_states(layer, x, n_states):
    """Per-step states of one encoder layer and its final states."""
    if isinstance(layer, keras.layers.Bidirectional):
        fwd = _run_cell(layer.forward_layer.cell, x, n_states)
        bwd = _run_cell(layer.backward_layer.cell, tf.reverse(x, [1]), n_states)
        steps = [tf.concat([f, tf.reverse(b, [1])], -1) for f, b in zip(fwd, bwd)]
        finals = [tf.concat([f[:, -1], b[:, -1]], -1) for f, b in zip(fwd, bwd)]
        return steps, finals
    steps = _run_cell(layer.cell, x, n_states)
    return steps, [s[:, -1] for s in steps]


def compiled_states(model: Seq2Seq):
    """The model's compiled per-step encoder function (prepared source ids -> state arrays)."""
    fn = getattr(model, "_encoder_states_fn", None)
    if fn is None:
        layers, n_states = model.layers, model.nets.n_states

        @tf.function(input_signature=[tf.TensorSpec([None, model.task.source_len], tf.int32)])
        def fn(src):
            x = token_features(layers.source_input, src)
            per_layer, finals = [], []
            for layer in layers.encoders:
                states, finals = _layer_states(layer, x, n_states)
                per_layer.append(states)
                x = states[0]
            return [tf.stack([p[k] for p in per_layer]) for k in range(n_states)] + finals
        model._encoder_states_fn = fn
    return fn


def encoder_states(model: Seq2Seq, source: np.ndarray) -> EncoderStates:
    """Hidden (and, for LSTM, cell) state of every encoder layer after every input step."""
    src = model.prepare_source(np.asarray(source, dtype=np.int32))
    return states_from([t.numpy() for t in compiled_states(model)(tf.constant(src))])


def states_from(out: list[np.ndarray]) -> EncoderStates:
    """EncoderStates from the arrays `compiled_states` returns."""
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
    states = model.nets.encoder(model.prepare_source(source), training=False)
    finals = np.asarray(states[-model.nets.n_states])
    mean, comps, explained = pca(finals)
    name, values = task.property_of(source)
    return Projection((finals - mean) @ comps.T, explained,
                      [task.source_text(r) for r in source], values, name, mean, comps)
