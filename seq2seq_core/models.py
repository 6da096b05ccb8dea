"""Encoder-decoder networks built from named Keras layers, and the inference models sharing them.

One place builds each network: `build_layers` creates the layers, `assemble` wires the
training model and the inference models from them. Loading a saved model builds the same
network from its description and loads the saved weights into it (see `persistence`).
"""
from __future__ import annotations

import os
from functools import cached_property

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from .budget import decoder_input_size  # noqa: E402
from .compiled import ModelFunctions  # noqa: E402
from .config import ModelConfig  # noqa: E402
from .features import token_features  # noqa: E402
from .layers import AttentionLayers, Layers, Networks  # noqa: E402
from .tasks import Task  # noqa: E402

RNN = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


@keras.saving.register_keras_serializable(package="seq2seq_lab")
class NotEqual(keras.layers.Layer):
    """True where ids differ from `value`: the source positions attention may look at."""

    def __init__(self, value: int, **kwargs):
        super().__init__(**kwargs)
        self.value = int(value)

    def call(self, ids):
        return keras.ops.not_equal(ids, self.value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "value": self.value}


UNROLL_MAX_STEPS = 16


def _rnn(config: ModelConfig, units: int, name: str, seed: int, steps: int | None,
         backwards: bool = False):
    """A recurrent layer; short sequences of a fixed length are unrolled (measured ~10%
    faster training on CPU). `steps` None: the length varies from batch to batch."""
    return RNN[config.cell](
        units, return_sequences=True, return_state=True, name=name, go_backwards=backwards,
        unroll=steps is not None and steps <= UNROLL_MAX_STEPS,
        # cuDNN takes only masks of right-padded sequences; a bucketed task's sources are
        # padded on the left, so its layers run Keras' own loop on a GPU too
        use_cudnn="auto" if steps is not None else False,
        dropout=config.dropout, seed=seed,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 1),
    )


def _input_layer(size: int, config: ModelConfig, name: str, seed: int):
    if config.embedding:
        return keras.layers.Embedding(
            size, config.embedding, name=f"{name}_embedding",
            embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed))
    return keras.layers.CategoryEncoding(size, output_mode="one_hot", name=f"{name}_onehot")


def start_id(task: Task) -> int:
    vocab = task.target_vocab
    return vocab.start if vocab.start is not None else vocab.size


def sequence_lengths(task: Task) -> tuple[int | None, int | None]:
    """The (source, target) steps a network is built for: None where batches of a
    length-bucketed task (`Task.bucketed`) vary in length. (A repeat decoder still writes
    `target_len` steps: its RepeatVector fixes them.)"""
    if task.bucketed:
        return None, None
    return task.source_len, task.target_len


def build_layers(task: Task, config: ModelConfig, seed: int = 0) -> Layers:
    s = seed * 1000
    s_steps, t_steps = sequence_lengths(task)
    encoders = []
    for i in range(1, config.layers + 1):
        layer = _rnn(config, config.units, f"encoder_{i}", s + 10 * i, s_steps)
        if config.bidirectional:
            back = _rnn(config, config.units, f"encoder_{i}_backward", s + 10 * i + 5,
                        s_steps, backwards=True)
            layer = keras.layers.Bidirectional(layer, backward_layer=back, name=f"encoder_{i}_bi")
        encoders.append(layer)
    decoders = [_rnn(config, config.dec_units, f"decoder_{i}", s + 500 + 10 * i, t_steps)
                for i in range(1, config.layers + 1)]
    dense = keras.layers.Dense(task.target_vocab.size, activation="softmax", name="output_dense",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=s + 900))
    output = keras.layers.TimeDistributed(dense, name="output") if config.arch == "repeat" else dense
    n_states = 2 if config.cell == "lstm" else 1
    concat = [[keras.layers.Concatenate(name=f"encoder_{i}_state_{k}") for k in range(n_states)]
              for i in range(1, config.layers + 1)] if config.bidirectional else []
    return Layers(
        source_input=_input_layer(task.source_vocab.size, config, "source", s + 1),
        target_input=_input_layer(decoder_input_size(task), config, "target", s + 2),
        encoders=encoders, decoders=decoders, output=output, concat_states=concat,
        attention=_attention_layers(task, config, s + 700) if config.arch == "attention" else None,
        padding=NotEqual(task.source_vocab.pad, name="source_padding") if task.bucketed else None)


def _attention_layers(task: Task, config: ModelConfig, seed: int) -> AttentionLayers:
    units, kind = config.dec_units, config.attention

    def proj(name, k):
        return keras.layers.Dense(units, use_bias=False, name=name,
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=seed + k))
    score = (keras.layers.AdditiveAttention(name="attention") if kind == "bahdanau"
             else keras.layers.Attention(name="attention"))
    return AttentionLayers(
        score=score,
        query=proj("attention_query", 1) if kind == "bahdanau" else None,
        key=proj("attention_key", 2) if kind != "dot" else None,
        combine=keras.layers.Dense(units, activation="tanh", name="attention_combine",
                                   kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 3)),
        mask=NotEqual(task.source_vocab.pad, name="source_mask"))


def _encode(layers: Layers, config: ModelConfig, source):
    """Run the encoder stack; return the top sequence and each layer's final states."""
    x = token_features(layers.source_input, source)
    mask = layers.padding(source) if layers.padding is not None else None
    all_states = []
    for i, layer in enumerate(layers.encoders):
        out = layer(x, mask=mask)
        x, states = out[0], list(out[1:])
        if config.bidirectional:
            half = len(states) // 2
            states = [layers.concat_states[i][k]([states[k], states[half + k]]) for k in range(half)]
        all_states.append(states)
    return x, all_states


def assemble(task: Task, config: ModelConfig, layers: Layers) -> Networks:
    s_steps, t_steps = sequence_lengths(task)
    source = keras.Input((s_steps,), dtype="int32", name="source")
    top_seq, enc_states = _encode(layers, config, source)
    flat_states = [st for group in enc_states for st in group]
    encoder = keras.Model(source, [top_seq] + flat_states, name="inference_encoder")
    n_states = len(enc_states[0])
    if config.arch == "repeat":
        x = keras.layers.RepeatVector(task.target_len, name="repeat")(enc_states[-1][0])
        for layer in layers.decoders:
            x = layer(x)[0]
        probs = layers.output(x)
        train = keras.Model(source, probs, name=f"seq2seq_{config.arch}")
        probe = keras.Model(source, [probs, x], name="repeat_probe")
        return Networks(train, encoder, None, probe, n_states)

    dec_in = keras.Input((t_steps,), dtype="int32", name="decoder_input")
    x = token_features(layers.target_input, dec_in)
    for layer, states in zip(layers.decoders, enc_states):
        x = layer(x, initial_state=states)[0]
    probe = None
    if layers.attention is not None:
        context, weights = layers.attention.attend(x, layers.attention.memory(top_seq, source))
        x = layers.attention.combine(keras.layers.Concatenate()([context, x]))
        probs = layers.output(x)
        probe = keras.Model([source, dec_in], [probs, weights], name="attention_probe")
    else:
        probs = layers.output(x)
    train = keras.Model([source, dec_in], probs, name=f"seq2seq_{config.arch}")

    token = keras.Input((1,), dtype="int32", name="step_token")
    state_in = [keras.Input((config.dec_units,), name=f"step_state_{i}")
                for i in range(len(flat_states))]
    x = token_features(layers.target_input, token)
    new_states = []
    for j, layer in enumerate(layers.decoders):
        out = layer(x, initial_state=state_in[j * n_states:(j + 1) * n_states])
        x = out[0]
        new_states.extend(out[1:])
    inputs, extra = [token] + state_in, []
    if layers.attention is not None:
        memory_in = keras.Input((s_steps, config.state_units), name="step_memory")
        source_in = keras.Input((s_steps,), dtype="int32", name="step_source")
        context, weights = layers.attention.attend(x, layers.attention.memory(memory_in, source_in))
        x = layers.attention.combine(keras.layers.Concatenate()([context, x]))
        inputs, extra = inputs + [memory_in, source_in], [weights]
    step = keras.Model(inputs, [layers.output(x)] + new_states + extra, name="decoder_step")
    return Networks(train, encoder, step, probe, n_states)


class Seq2Seq:
    """A task together with its network: what trainers, decoders and inspectors work on."""

    def __init__(self, task: Task, config: ModelConfig, layers: Layers, seed: int = 0):
        self.task = task
        self.config = config
        self.seed = seed
        self.layers = layers
        self.nets = assemble(task, config, layers)
        self.start_id = start_id(task)

    @classmethod
    def build(cls, task: Task, config: ModelConfig | None = None, seed: int = 0) -> "Seq2Seq":
        config = config or ModelConfig()
        return cls(task, config, build_layers(task, config, seed), seed)

    @cached_property
    def functions(self) -> ModelFunctions:
        """Every compiled function of this model (greedy, trace, encoder states, strategy
        steps), each traced on first use."""
        return ModelFunctions(self.layers, self.nets, self.config, self.task.source_len,
                              self.task.target_len, self.start_id)

    @property
    def train_model(self) -> keras.Model:
        return self.nets.train

    def count_params(self) -> int:
        return int(self.nets.train.count_params())

    def summary(self) -> list[dict]:
        """One row per layer of the training model: name, kind, output shape, parameters."""
        rows = []
        for layer in self.nets.train.layers:
            shape = getattr(layer, "output", None)
            shape = getattr(shape, "shape", None) if shape is not None and not isinstance(shape, list) \
                else [getattr(t, "shape", None) for t in (shape or [])]
            rows.append({"layer": layer.name, "kind": type(layer).__name__,
                         "output shape": str(shape), "parameters": int(layer.count_params())})
        return rows

    def prepare_source(self, source: np.ndarray) -> np.ndarray:
        """Apply the source reversal of Sutskever et al. to the content, keeping left padding."""
        if not self.config.reverse_source:
            return source
        length = source.shape[1]
        first = length - (source != self.task.source_vocab.pad).sum(axis=1)
        pos = np.arange(length)[None, :]
        cols = np.where(pos >= first[:, None], first[:, None] + length - 1 - pos, pos)
        return np.take_along_axis(source, cols, axis=1)

    def teacher_inputs(self, target: np.ndarray) -> np.ndarray:
        """The decoder input for teacher forcing: the target shifted right after the start symbol."""
        shifted = np.empty_like(target)
        shifted[:, 0] = self.start_id
        shifted[:, 1:] = target[:, :-1]
        return shifted

    def model_inputs(self, source: np.ndarray, target: np.ndarray | None = None):
        src = self.prepare_source(source)
        if not self.config.feeds_back:
            return src
        return [src, self.teacher_inputs(target)]

