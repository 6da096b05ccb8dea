"""A network's training step, compiled as a TensorFlow graph or by XLA, chosen by measurement.

XLA spends 1.5-4 s compiling on its first batch, then trains some networks up to a third
faster and others up to 10% slower (`benchmarks/xla_steps.py`), so a demo that reaches its target
in two seconds never earns the compile back. With `compiler="auto"` a run trains with the
graph, tries XLA once it has trained XLA_AFTER_SECONDS with at least XLA_MIN_LEFT_SECONDS
of budget left, and keeps XLA only if it measured at least MARGIN faster than the graph's
latest chunks. A network XLA cannot compile trains with the graph. XLA rounds differently,
so a run that switched is not bit-identical to one that did not.
"""
from __future__ import annotations

import keras
import tensorflow as tf

XLA_AFTER_SECONDS = 20.0
XLA_MIN_LEFT_SECONDS = 60.0   # so the 60 s fast demos never pay for a trial
MEASURE_SECONDS = 2.0   # of steady training per step before the two are compared
MARGIN = 0.05           # XLA is kept only this much faster: noise must not decide
BUCKETED_NOTE = ("Batches of this task vary in length (length bucketing) and XLA compiles "
                 "once per batch shape, so it trains as a TensorFlow graph.")


def masked_loss_and_accuracy(targets, probs, weights):
    """Mean cross-entropy and token accuracy over the positions that count."""
    ce = keras.ops.sparse_categorical_crossentropy(targets, probs)
    total = tf.maximum(tf.reduce_sum(weights), 1.0)
    hits = tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), targets), tf.float32)
    return tf.reduce_sum(ce * weights) / total, tf.reduce_sum(hits * weights) / total


def compile_train_step(net: keras.Model, optimizer, jit: bool):
    """One optimizer step on a batch: (inputs, targets, weights) -> (loss, token accuracy).

    The step has no Python control flow, so it is traced without AutoGraph (measured
    0.25 s less to its first batch for the addition network)."""
    variables = net.trainable_variables

    @tf.function(jit_compile=jit, reduce_retracing=True, autograph=False)
    def step(inputs, targets, weights):
        with tf.GradientTape() as tape:
            probs = net(inputs, training=True)
            loss, acc = masked_loss_and_accuracy(targets, probs, weights)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss, acc
    return step


class TrainSteps:
    """The training step of one network and optimizer: call it on a batch.

    `kind` is the step that trains now ("graph" or "xla"); `note` says why, once the
    automatic choice has measured both. The trainer reports each chunk to `after_chunk`.
    """

    def __init__(self, net: keras.Model, optimizer, compiler: str = "auto",
                 bucketed: bool = False):
        self._net, self._optimizer = net, optimizer
        self._steps: dict = {}
        self.kind = "xla" if compiler == "xla" else "graph"
        self.note = BUCKETED_NOTE if bucketed and compiler == "auto" else ""
        self._fresh = True              # the next chunk pays this step's tracing or compile
        self._decided = compiler != "auto" or bucketed
        self._xla_ran = False           # after XLA's first step, its errors are real errors
        self._chunks = {"graph": [], "xla": []}  # steady (samples, seconds) per chunk

    def _step(self, kind: str):
        if kind not in self._steps:
            self._steps[kind] = compile_train_step(self._net, self._optimizer, kind == "xla")
        return self._steps[kind]

    def __call__(self, inputs, targets, weights):
        if self.kind == "graph":
            return self._step("graph")(inputs, targets, weights)
        if self._xla_ran:
            return self._step("xla")(inputs, targets, weights)
        try:
            out = self._step("xla")(inputs, targets, weights)
        except tf.errors.OpError as err:  # compiling fails before the step changes anything
            self._use("graph", f"XLA could not compile this network ({type(err).__name__}), "
                               "so it trains as a TensorFlow graph.")
            self._decided = True
            return self._step("graph")(inputs, targets, weights)
        self._xla_ran = True
        return out

    def _use(self, kind: str, note: str) -> None:
        self._fresh = self._fresh or kind != self.kind
        self.kind, self.note = kind, note

    def measured(self, kind: str) -> float:
        """Seconds of steady training measured with a step."""
        return sum(s for _, s in self._chunks[kind])

    def rate(self, kind: str) -> float | None:
        """Samples per second of a step over its latest MEASURE_SECONDS of steady chunks
        (None before it has any)."""
        samples = seconds = 0.0
        for n, s in reversed(self._chunks[kind]):
            samples, seconds = samples + n, seconds + s
            if seconds >= MEASURE_SECONDS:
                break
        return samples / seconds if seconds > 0 else None

    def after_chunk(self, samples: int, seconds: float, trained: float, left: float) -> None:
        """Count a chunk's speed, then try or settle XLA (`trained`: seconds trained so far,
        `left`: seconds the budget still allows)."""
        if not self._fresh and seconds > 0:
            self._chunks[self.kind].append((samples, seconds))
        self._fresh = False
        if self._decided:
            return
        if self.kind == "graph":
            if trained >= XLA_AFTER_SECONDS and left >= XLA_MIN_LEFT_SECONDS \
                    and self.measured("graph") >= MEASURE_SECONDS:
                self._use("xla", "Trying XLA: the run is long enough to pay for its compile.")
            return
        if self.measured("xla") < MEASURE_SECONDS:
            return
        graph, xla = self.rate("graph"), self.rate("xla")
        self._decided = True
        change = xla / graph - 1
        if change >= MARGIN:
            self.note = f"XLA measured {change:.0%} faster than the graph here, so it trains on."
        else:
            words = f"{-change:.0%} slower" if change < 0 else f"only {change:.0%} faster"
            self._use("graph", f"XLA measured {words} than the graph here, so the graph "
                               "trains on.")
