"""What one network is made of: its named layers, and the Keras models wired from them.

Plain containers with no building logic, so the builder (`models`) and the compiled
functions (`compiled`) can both read them without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


@dataclass
class AttentionLayers:
    """Attention over the encoder outputs: scoring, projections and the combining layer."""

    score: keras.layers.Layer
    query: keras.layers.Layer | None
    key: keras.layers.Layer | None
    combine: keras.layers.Layer
    mask: keras.layers.Layer

    def memory(self, values, source):
        """What every decoder step attends over: values, projected keys and the pad mask."""
        keys = self.key(values) if self.key is not None else values
        return values, keys, self.mask(source)

    def attend(self, query, memory):
        """Context vectors and attention weights for queries (batch, steps, units)."""
        values, keys, mask = memory
        q = self.query(query) if self.query is not None else query
        return self.score([q, values, keys], mask=[None, mask], return_attention_scores=True)


@dataclass
class Layers:
    """The named layers of one network."""

    source_input: keras.layers.Layer  # an Embedding, or a one-hot CategoryEncoding
    target_input: keras.layers.Layer
    encoders: list[keras.layers.Layer]
    decoders: list[keras.layers.Layer]
    output: keras.layers.Layer
    concat_states: list = field(default_factory=list)
    attention: AttentionLayers | None = None
    # True where a source id is not padding: the encoder skips padding (its state carries
    # over), so a sentence gives the same result however much it is padded. Only networks
    # of length-bucketed tasks have it; the others were trained reading their padding.
    padding: keras.layers.Layer | None = None


@dataclass
class Networks:
    """The training model and the inference models that share its weights.

    `probe` returns internals for drawing: for "repeat", the probabilities and the decoder's
    output sequence; for "attention", the probabilities and the attention weights under
    teacher forcing. The one-step `step` model is the seeds' inference decoder; the compiled
    decoding loop steps the same layers' cells directly.
    """

    train: keras.Model
    encoder: keras.Model
    step: keras.Model | None
    probe: keras.Model | None
    n_states: int
