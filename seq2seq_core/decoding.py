"""Greedy decoding: batched prediction and the per-step trace the inspector draws.

The decode loop itself is compiled in `compiled.ModelFunctions`; this module feeds it numpy
batches and turns its tensors into plain results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from .budget import EVAL_BATCH as BATCH
from .inspection import states_from

TOP_K = 5  # the alternatives a traced step keeps

if TYPE_CHECKING:
    from .models import Seq2Seq


@dataclass(frozen=True)
class Step:
    """One decoder step: the chosen token, the top-k alternatives and the decoder state.

    `attention` holds the weights over the input steps (attention models only).
    """

    index: int
    token: str
    token_id: int
    probability: float
    top: tuple[tuple[str, float], ...]
    state: np.ndarray
    output_so_far: str
    attention: np.ndarray | None = None


@dataclass(frozen=True)
class Trace:
    """Everything one greedy decode did, for drawing.

    `encoder_hidden`/`encoder_cell` are (layers, input steps, units) in the order the encoder
    read the input (after any source reversal); `encoder_cell` is None for GRU. `attention`
    is (output steps, input steps) for attention models, else None.
    """

    input_text: str
    input_tokens: tuple[str, ...]
    output_text: str
    expected: str | None
    steps: tuple[Step, ...]
    encoder_hidden: np.ndarray
    encoder_cell: np.ndarray | None
    final_state: dict
    attention: np.ndarray | None = None
    outside: str = ""  # why this input is outside what the model learned ('' if it is not)

    @property
    def correct(self) -> bool | None:
        return None if self.expected is None else self.output_text == self.expected


@dataclass(frozen=True)
class Greedy:
    """Batched greedy output: token ids (n, T), probabilities (n, T, V), decoder states
    (n, T, U) and, for attention models, attention weights (n, T, S)."""

    tokens: np.ndarray
    probs: np.ndarray
    states: np.ndarray
    attention: np.ndarray | None = None


class Decoder:
    """Greedy decoding of one model in numpy terms: batches of source ids in, token ids,
    texts or a per-step Trace out. Cheap to make: the compiled functions live on the model
    (`model.functions`), so every Decoder of one model shares them."""

    def __init__(self, model: Seq2Seq):
        self.model = model
        self.functions = model.functions

    def greedy(self, source: np.ndarray) -> Greedy:
        """Decode raw (un-reversed) source ids in batches."""
        src = self.model.prepare_source(np.asarray(source, dtype=np.int32))
        run = self.functions.greedy
        parts = [run(tf.constant(src[i:i + BATCH])) for i in range(0, len(src), BATCH)]
        if not parts:
            parts = [run(tf.zeros([0, self.model.task.source_len], tf.int32))]
        return _greedy_from([[t.numpy() for t in p] for p in parts])

    def predict_ids(self, source: np.ndarray) -> np.ndarray:
        """Greedy token ids (n, T); keeps only the tokens of each batch, so memory stays
        one batch's probabilities whatever n is."""
        src = self.model.prepare_source(np.asarray(source, dtype=np.int32))
        parts = [self.functions.greedy(tf.constant(src[i:i + BATCH]))[0].numpy()
                 for i in range(0, len(src), BATCH)]
        if not parts:
            return np.zeros((0, self.model.task.target_len), dtype=np.int32)
        return np.concatenate(parts)

    def predict(self, texts: list[str]) -> list[str]:
        """Outputs for typed inputs; raises InvalidInput for the first invalid one."""
        task = self.model.task
        tokens = self.predict_ids(task.encode_inputs(list(texts)))
        return [task.target_text(row) for row in tokens]

    def trace(self, text: str, k: int = TOP_K) -> Trace:
        """Decode one typed input and record every step and the encoder's states."""
        task = self.model.task
        clean = task.validate(text)
        source = task.encode_inputs([clean])
        read = self.model.prepare_source(source)
        decoded, enc_arrays = self.functions.trace(tf.constant(read))
        out = _greedy_from([[t.numpy() for t in decoded]])
        enc = states_from([t.numpy() for t in enc_arrays])
        vocab = task.target_vocab
        steps, chosen = [], []
        for t in range(task.target_len):
            p = out.probs[0, t]
            best = np.argsort(-p)[:k]
            tok = int(out.tokens[0, t])
            chosen.append(tok)
            steps.append(Step(t, vocab.label(tok), tok, float(p[tok]),
                              tuple((vocab.label(i), float(p[i])) for i in best),
                              out.states[0, t], vocab.decode(chosen),
                              None if out.attention is None else out.attention[0, t]))
            if vocab.end is not None and tok == vocab.end:
                break
        return Trace(
            input_text=clean,
            input_tokens=tuple(task.source_vocab.label(i) for i in read[0]),
            output_text=task.target_text(out.tokens[0]),
            expected=task.answer(clean),
            steps=tuple(steps),
            encoder_hidden=enc.hidden[:, 0],
            encoder_cell=None if enc.cell is None else enc.cell[:, 0],
            final_state=enc.final(0),
            attention=None if out.attention is None else out.attention[0, :len(steps)],
            outside=task.outside(clean),
        )


def _greedy_from(parts: list[list[np.ndarray]]) -> Greedy:
    """Join per-batch outputs; attention is None for models without it."""
    tokens, probs, states, weights = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return Greedy(tokens, probs, states, weights if weights.shape[-1] else None)
