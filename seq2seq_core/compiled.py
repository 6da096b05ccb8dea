"""Every compiled TensorFlow function of one network, each traced on first use.

One `ModelFunctions` per model owns them all, so no caller keeps its own cache on a model:
greedy decoding, the encoder's state after every input step, the trace (both in one call)
and the one-step functions beam search and sampling drive. It is built from the network's
layers and sizes, not from a Seq2Seq, so a model can hold one without an import cycle.
The whole greedy loop runs inside one `tf.function`: a traced decode costs a few
milliseconds rather than one `model.predict` call (~80 ms) per output step.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from .features import token_features

if TYPE_CHECKING:
    from .config import ModelConfig
    from .layers import Layers, Networks


class StepFunctions:
    """The decoder as two functions to run inside a `tf.function`: `begin(src)` and
    `step(token, states, memory)`.

    `begin` encodes the source into the decoder's initial states and what attention reads
    (empty without attention); `step` advances every row by one token and returns the
    probabilities, new states, the top decoder output and the attention weights.
    """

    def __init__(self, layers: Layers, nets: Networks, config: ModelConfig):
        self.encoder = nets.encoder
        self.attention = layers.attention
        self.embed = layers.target_input
        self.one_hot = not config.embedding
        self.cells = [layer.cell for layer in layers.decoders]
        self.dense = layers.output
        self.per_layer = nets.n_states

    def begin(self, src):
        out = self.encoder(src, training=False)
        memory = self.attention.memory(out[0], src) if self.attention is not None else ()
        return list(out[1:]), memory

    def step(self, token, states, memory):
        x = tf.one_hot(token, self.embed.num_tokens) if self.one_hot else self.embed(token)
        new_states, per = [], self.per_layer
        for j, cell in enumerate(self.cells):
            x, st = cell(x, states[j * per:(j + 1) * per], training=False)
            new_states.extend(st if isinstance(st, (list, tuple)) else [st])
        h, weights = x, tf.zeros([tf.shape(x)[0], 0])
        if self.attention is not None:
            context, w = self.attention.attend(h[:, None, :], memory)
            x = self.attention.combine(tf.concat([context[:, 0], h], -1))
            weights = w[:, 0]
        return self.dense(x), new_states, h, weights


def _run_cell(cell, x, n_states: int, mask=None):
    """Step a recurrent cell over x (batch, steps, features); return all states per step.
    Where `mask` (batch, steps) is False the step is skipped: the states carry over."""
    batch, steps = tf.shape(x)[0], tf.shape(x)[1]
    states = [tf.zeros([batch, cell.units]) for _ in range(n_states)]
    arrays = [tf.TensorArray(tf.float32, size=steps) for _ in range(n_states)]
    for t in tf.range(steps):
        _, new = cell(x[:, t], states, training=False)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        if mask is not None:
            new = [tf.where(mask[:, t, None], a, b) for a, b in zip(new, states)]
        states = new
        arrays = [a.write(t, s) for a, s in zip(arrays, states)]
    return [tf.transpose(a.stack(), [1, 0, 2]) for a in arrays]


# What one step of each cell computes, in the order `cell_gates` returns them.
GATE_NAMES = {"lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("z", "r", "candidate", "h")}
# At a skipped (padding) step: a gate that keeps everything (f, z: 1), nothing written
# (i, g, r, candidate: 0), and o, c and h as they were, so the equations still hold there.
SKIPPED_KEEP, SKIPPED_AS_BEFORE = ("f", "z"), ("o", "c", "h")


def _lstm_step(cell, xk, states):
    """One LSTM step from x·kernel + bias: i, f, g, o, c, h and the new (h, c)."""
    h, c = states
    zi, zf, zg, zo = tf.split(xk + tf.matmul(h, cell.recurrent_kernel), 4, axis=-1)
    act, gate = cell.activation, cell.recurrent_activation
    i, f, g, o = gate(zi), gate(zf), act(zg), gate(zo)
    c = f * c + i * g
    h = o * act(c)
    return (i, f, g, o, c, h), (h, c)


def _gru_step(cell, xk, states):
    """One GRU step (reset after the recurrent product, Keras' default): z, r, candidate, h."""
    (h,) = states
    x_z, x_r, x_h = tf.split(xk, 3, axis=-1)
    inner = tf.matmul(h, cell.recurrent_kernel)
    if cell.use_bias:
        inner = inner + cell.bias[1]
    r_z, r_r, r_h = tf.split(inner, 3, axis=-1)
    act, gate = cell.activation, cell.recurrent_activation
    z, r = gate(x_z + r_z), gate(x_r + r_r)
    candidate = act(x_h + r * r_h)
    h = z * h + (1 - z) * candidate
    return (z, r, candidate, h), (h,)


def _skipped(names, values, before, keep):
    """Each value where `keep` (n, 1) is True, else what a skipped step shows (SKIPPED_*)."""
    out = []
    for name, new, old in zip(names, values, before):
        fill = old if name in SKIPPED_AS_BEFORE else \
            tf.fill(tf.shape(new), 1.0 if name in SKIPPED_KEEP else 0.0)
        out.append(tf.where(keep, new, fill))
    return tuple(out)


def _cell_scan(kind: str, cell, x, initial, mask=None):
    """Recompute one recurrent layer from its own weights over x (n, steps, features),
    starting from `initial` states: every gate and state per step, each (n, steps, units),
    in GATE_NAMES order, and the final states. Where `mask` (n, steps) is False the step
    is skipped, as Keras skips masked steps: the states carry over."""
    if kind == "gru" and not getattr(cell, "reset_after", True):
        raise ValueError("only GRUs with reset_after=True (Keras' default) are recomputed")
    bias = cell.bias if kind == "lstm" else cell.bias[0]
    xk = tf.einsum("nsf,fg->nsg", x, cell.kernel)
    if cell.use_bias:
        xk = xk + bias
    step, names = (_lstm_step if kind == "lstm" else _gru_step), GATE_NAMES[kind]
    steps = tf.shape(x)[1]
    arrays = tuple(tf.TensorArray(tf.float32, size=steps) for _ in names)
    blank = tuple(tf.zeros_like(initial[0]) for _ in names)

    def body(t, states, last, arrays):
        values, new = step(cell, xk[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]
            values = _skipped(names, values, last, keep)
            new = tuple(tf.where(keep, a, b) for a, b in zip(new, states))
        return t + 1, new, values, tuple(a.write(t, v) for a, v in zip(arrays, values))
    _, states, _, arrays = tf.while_loop(lambda t, *_: t < steps, body,
                                         (tf.constant(0), tuple(initial), blank, arrays))
    return [tf.transpose(a.stack(), [1, 0, 2]) for a in arrays], list(states)


def _layer_states(layer, x, n_states, mask=None):
    """Per-step states of one encoder layer and its final states."""
    if isinstance(layer, keras.layers.Bidirectional):
        back = None if mask is None else tf.reverse(mask, [1])
        fwd = _run_cell(layer.forward_layer.cell, x, n_states, mask)
        bwd = _run_cell(layer.backward_layer.cell, tf.reverse(x, [1]), n_states, back)
        steps = [tf.concat([f, tf.reverse(b, [1])], -1) for f, b in zip(fwd, bwd)]
        finals = [tf.concat([f[:, -1], b[:, -1]], -1) for f, b in zip(fwd, bwd)]
        return steps, finals
    steps = _run_cell(layer.cell, x, n_states, mask)
    return steps, [s[:, -1] for s in steps]


class ModelFunctions:
    """The compiled functions of one network; each takes prepared (already reversed where
    the model reverses its input) source ids (n, S) unless it says otherwise.

    - `greedy(src)`: token ids (n, T), probabilities (n, T, V), decoder states (n, T, U) and
      attention weights (n, T, S), or (n, T, 0) without attention.
    - `encoder_states(src)`: per-step states (layers, n, S, units), h then (LSTM) c, followed
      by the top layer's final h (and c), (n, units).
    - `trace(src)`: `(greedy(src), encoder_states(src))` in one call.
    - `begin(src)` / `step(token, states, memory)`: feedback models, one output step at a
      time: the initial states and attention memory; then probabilities and new states.
    - `table(src)`: the repeat model's probabilities (n, T, V), which no token choice changes.
    - `gates(src)`: every recurrent layer recomputed from its own weights along the greedy
      decode: greedy token ids (n, T), then `cell_gates(src, feed)` of the tokens it fed.
    - `cell_gates(src, feed)`: encoder layers (a bidirectional one as forward then backward,
      each in its reading order), decoder layers (reading `feed` (n, T), the tokens before
      each step, where the decoder feeds back), each a list of (n, steps, units) in
      GATE_NAMES order; then each decoder layer's initial states.
    - `check(inputs, targets, weights)`: the held-out check in one call, on the training
      network's inputs (`Seq2Seq.model_inputs`): greedy token ids (n, T), the summed masked
      cross-entropy and the summed weights.
    """

    def __init__(self, layers: Layers, nets: Networks, config: ModelConfig,
                 source_len: int, target_len: int, start_id: int):
        self.layers, self.nets, self.config = layers, nets, config
        self.target_len, self.start_id = target_len, start_id
        self._spec = [tf.TensorSpec([None, source_len], tf.int32)]
        rows = tf.TensorSpec([None, target_len], tf.int32)
        inputs = [self._spec[0], rows] if config.feeds_back else self._spec[0]
        self._check_spec = [inputs, rows, tf.TensorSpec([None, target_len], tf.float32)]

    @cached_property
    def steps(self) -> StepFunctions:
        return StepFunctions(self.layers, self.nets, self.config)

    @cached_property
    def greedy(self):
        run = self._decode_feedback if self.config.feeds_back else self._decode_repeat
        return tf.function(run, input_signature=self._spec)

    @cached_property
    def encoder_states(self):
        return tf.function(self._encoder_states, input_signature=self._spec)

    @cached_property
    def trace(self):
        return tf.function(self._trace, input_signature=self._spec)

    @cached_property
    def begin(self):
        return tf.function(self.steps.begin, reduce_retracing=True)

    @cached_property
    def step(self):
        return tf.function(self._step, reduce_retracing=True)

    @cached_property
    def table(self):
        return tf.function(self._table)

    @cached_property
    def gates(self):
        return tf.function(self._gates, input_signature=self._spec)

    @cached_property
    def cell_gates(self):
        feed = tf.TensorSpec([None, self.target_len], tf.int32)
        return tf.function(self._cell_gates, input_signature=[self._spec[0], feed],
                           autograph=False)

    @cached_property
    def check(self):
        return tf.function(self._check, input_signature=self._check_spec)

    def _decode_repeat(self, src):
        probs, seq = self.nets.probe(src, training=False)
        empty = tf.zeros([tf.shape(src)[0], self.target_len, 0])
        return tf.argmax(probs, -1, output_type=tf.int32), probs, seq, empty

    def _decode_feedback(self, src):
        fns, steps = self.steps, self.target_len
        states, memory = fns.begin(src)
        token = tf.fill([tf.shape(src)[0]], self.start_id)
        arrays = [tf.TensorArray(dt, size=steps)
                  for dt in (tf.int32, tf.float32, tf.float32, tf.float32)]
        for t in tf.range(steps):
            p, states, h, w = fns.step(token, states, memory)
            token = tf.argmax(p, -1, output_type=tf.int32)
            arrays = [a.write(t, v) for a, v in zip(arrays, (token, p, h, w))]
        toks, probs, hs, ws = (a.stack() for a in arrays)
        perm = [1, 0, 2]
        return (tf.transpose(toks), tf.transpose(probs, perm), tf.transpose(hs, perm),
                tf.transpose(ws, perm))

    def _encoder_states(self, src):
        n_states = self.nets.n_states
        x, mask = token_features(self.layers.source_input, src), self._padding(src)
        per_layer, finals = [], []
        for layer in self.layers.encoders:
            states, finals = _layer_states(layer, x, n_states, mask)
            per_layer.append(states)
            x = states[0]
        return [tf.stack([p[k] for p in per_layer]) for k in range(n_states)] + finals

    def _gates(self, src):
        if self.config.feeds_back:
            tokens = self._decode_feedback(src)[0]
        else:
            tokens = self._decode_repeat(src)[0]
        start = tf.fill([tf.shape(src)[0], 1], self.start_id)
        feed = tf.concat([start, tokens[:, :-1]], axis=1)
        return tokens, self._cell_gates(src, feed)

    def _cell_gates(self, src, feed):
        kind, layers = self.config.cell, self.layers
        h_at = GATE_NAMES[kind].index("h")
        n = tf.shape(src)[0]

        def zeros(units):
            return [tf.zeros([n, units]) for _ in range(self.nets.n_states)]
        x, mask = token_features(layers.source_input, src), self._padding(src)
        back = None if mask is None else tf.reverse(mask, [1])
        encoder, finals = [], []
        for layer in layers.encoders:
            if isinstance(layer, keras.layers.Bidirectional):
                cells = [layer.forward_layer.cell, layer.backward_layer.cell]
                fwd, f_end = _cell_scan(kind, cells[0], x, zeros(cells[0].units), mask)
                bwd, b_end = _cell_scan(kind, cells[1], tf.reverse(x, [1]),
                                        zeros(cells[1].units), back)
                encoder += [fwd, bwd]
                finals.append([tf.concat([a, b], -1) for a, b in zip(f_end, b_end)])
                x = tf.concat([fwd[h_at], tf.reverse(bwd[h_at], [1])], -1)
            else:
                values, end = _cell_scan(kind, layer.cell, x, zeros(layer.cell.units), mask)
                encoder.append(values)
                finals.append(end)
                x = values[h_at]
        if self.config.feeds_back:
            y, initial = token_features(layers.target_input, feed), finals
        else:
            y = tf.repeat(finals[-1][0][:, None], self.target_len, axis=1)
            initial = [zeros(layer.cell.units) for layer in layers.decoders]
        decoder = []
        for layer, start in zip(layers.decoders, initial):
            values, _ = _cell_scan(kind, layer.cell, y, start)
            decoder.append(values)
            y = values[h_at]
        return encoder, decoder, initial

    def _padding(self, src):
        """Where the encoder reads a token rather than skipping padding (None: it skips none)."""
        return self.layers.padding(src) if self.layers.padding is not None else None

    def _trace(self, src):
        return self.greedy(src), self.encoder_states(src)

    def _step(self, token, states, memory):
        return self.steps.step(token, states, tuple(memory))[:2]

    def _table(self, src):
        return self.nets.probe(src, training=False)[0]

    def _check(self, inputs, targets, weights):
        probs = self.nets.train(inputs, training=False)
        if self.config.feeds_back:
            tokens = self._decode_feedback(inputs[0])[0]
        else:
            tokens = tf.argmax(probs, -1, output_type=tf.int32)
        ce = keras.ops.sparse_categorical_crossentropy(targets, probs)
        return tokens, tf.reduce_sum(ce * weights), tf.reduce_sum(weights)
