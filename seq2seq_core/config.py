"""Model and training settings, one frozen dataclass each (task settings live with their task)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import InvalidInput
from .tasks.limits import check_bool, check_choice, check_float, check_int

ARCHS = ("teacher", "repeat", "attention")
CELLS = ("lstm", "gru")
ATTENTIONS = ("bahdanau", "luong", "dot")


@dataclass(frozen=True)
class ModelConfig:
    """The network: architecture, recurrent cell, sizes and input options.

    `arch="repeat"` is seeds 000/003 (encoder -> RepeatVector -> decoder); "teacher" is seeds
    001/004 (encoder states seed the decoder, which reads the target shifted by one step);
    "attention" is "teacher" plus attention over the encoder's outputs at every decoder step,
    scored as `attention`: "bahdanau" (additive, Bahdanau et al. 2015), "luong" (general,
    a learned key projection) or "dot" (Luong's dot product).
    `decoder_units` may differ from `units` only for "repeat". `embedding=0` means one-hot input.
    """

    arch: str = "teacher"
    cell: str = "lstm"
    units: int = 128
    decoder_units: int | None = None
    layers: int = 1
    bidirectional: bool = False
    reverse_source: bool = False
    embedding: int = 0
    dropout: float = 0.0
    attention: str = "bahdanau"

    def __post_init__(self):
        check_choice("Architecture", self.arch, ARCHS)
        check_choice("Cell", self.cell, CELLS)
        check_choice("Attention", self.attention, ATTENTIONS)
        check_int("Encoder units", self.units, 1, 1024)
        if self.decoder_units is not None:
            check_int("Decoder units", self.decoder_units, 1, 2048)
            if self.feeds_back and self.decoder_units != self.state_units:
                raise InvalidInput(
                    "With teacher forcing the encoder's final states become the decoder's "
                    f"initial states, so the decoder has {self.state_units} units; "
                    "different decoder units need the repeat architecture.")
        check_int("Layers", self.layers, 1, 3)
        check_bool("Bidirectional", self.bidirectional)
        check_bool("Reverse the source", self.reverse_source)
        check_int("Embedding size", self.embedding, 0, 512)
        check_float("Dropout", self.dropout, 0.0, 0.8)

    @property
    def feeds_back(self) -> bool:
        """True where the decoder reads its previous token (teacher forcing, attention)."""
        return self.arch != "repeat"

    @property
    def state_units(self) -> int:
        """Width of the encoder's final state (doubled by a bidirectional encoder)."""
        return self.units * (2 if self.bidirectional else 1)

    @property
    def dec_units(self) -> int:
        if self.feeds_back or self.decoder_units is None:
            return self.state_units
        return self.decoder_units


@dataclass(frozen=True)
class TrainConfig:
    """How to train: batch, learning rate, budget and the stopping rule.

    Training runs in chunks of `chunk_batches` batches; after each chunk the model is scored
    on `eval_samples` held-out examples. It stops at `max_samples`, after `max_seconds` of
    training, or once exact match reaches `target_accuracy` (if set).
    """

    batch_size: int = 128
    learning_rate: float = 0.01
    max_samples: int = 200_000
    max_seconds: float = 600.0
    target_accuracy: float | None = None
    seed: int = 0
    chunk_batches: int = 25
    eval_samples: int = 500
    clipnorm: float = 1.0

    def __post_init__(self):
        check_int("Batch size", self.batch_size, 1, 4096)
        check_float("Learning rate", self.learning_rate, 1e-6, 1.0)
        check_int("Samples", self.max_samples, 1, 20_000_000)
        check_float("Time budget (s)", self.max_seconds, 1.0, 24 * 3600.0)
        if self.target_accuracy is not None:
            check_float("Target accuracy", self.target_accuracy, 0.0, 1.0)
        check_int("Seed", self.seed, 0, 2**31 - 1)
        check_int("Batches per chunk", self.chunk_batches, 1, 10_000)
        check_int("Evaluation samples", self.eval_samples, 1, 100_000)
        check_float("Gradient clip norm", self.clipnorm, 0.0, 1000.0)


def from_json(values: dict) -> dict:
    """Settings read back from JSON: lists become the tuples the dataclasses hold."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def split_overrides(pairs: dict, *classes) -> list[dict]:
    """Route flat key=value overrides to the dataclass that has that field."""
    out = [{} for _ in classes]
    for key, value in pairs.items():
        for i, cls in enumerate(classes):
            if key in {f.name for f in fields(cls)}:
                out[i][key] = value
                break
        else:
            known = sorted({f.name for cls in classes for f in fields(cls)})
            raise InvalidInput(f"Unknown setting {key!r}; known settings: {', '.join(known)}.")
    return out
