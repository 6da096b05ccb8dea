"""Model and training settings, one frozen dataclass each (task settings live with their task)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import InvalidInput
from .settings import check_fields, setting

ARCH_NAMES = {"teacher": "Teacher forcing (encoder states → decoder)",
              "repeat": "Repeat (encoder output repeated for each output step)",
              "attention": "Attention (teacher forcing + a look back at every input step)"}
ATTENTION_NAMES = {"bahdanau": "Bahdanau (additive)", "luong": "Luong (general)",
                   "dot": "Luong (dot product)"}
ARCHS, CELLS, ATTENTIONS = tuple(ARCH_NAMES), ("lstm", "gru"), tuple(ATTENTION_NAMES)
ARCH_SHORT = {"repeat": "Repeat", "teacher": "Teacher forcing", "attention": "Attention"}
ARCH_WHAT = {
    "repeat": "the encoder's last output is copied once per output step and fed to the decoder "
              "(seeds 000/003).",
    "teacher": "the encoder's final states start the decoder, which reads the previous target "
               "token at each step (seeds 001/004, the Keras example).",
    "attention": "teacher forcing, plus at every output step the decoder looks back at *all* "
                 "the encoder's outputs and mixes them by learned weights, so the whole input "
                 "no longer has to fit in one final state (Bahdanau et al. 2015; Luong et al. "
                 "2015).",
}
ATTENTION_WHAT = {
    "bahdanau": "a small feed-forward layer, v·tanh(W·decoder + U·encoder); the most weights, "
                "works with any sizes.",
    "luong": "a learned projection then a dot product, decoderᵀ·W·encoder.",
    "dot": "the plain dot product decoderᵀ·encoder, no extra weights.",
}


SCHEDULE_NAMES = {"constant": "Constant", "warmup_cosine": "Warm-up, then cosine decay"}
SCHEDULE_WHAT = {
    "constant": "the learning rate throughout, as the seeds train.",
    "warmup_cosine": "the rate climbs from a tenth to the learning rate over the first 5% of "
                     "the samples budget (500 steps at most), then falls along a cosine to 2% "
                     "of it at the end of the budget: big steps early, fine ones late "
                     "(Loshchilov & Hutter 2017). Set the samples budget to the run's length.",
}
COMPILER_NAMES = {"auto": "Automatic", "graph": "TensorFlow graph", "xla": "XLA"}
COMPILER_WHAT = {
    "auto": "a TensorFlow graph; a run whose budget leaves a minute more after 20 s of "
            "training tries XLA then and keeps whichever step measured faster.",
    "graph": "a `tf.function` graph: ready in well under a second.",
    "xla": "the step compiled by XLA from the first batch: a few seconds to compile, often "
           "10-20% faster after that, sometimes slower.",
}


def choices_help(names: dict, what: dict) -> str:
    """One Markdown line per choice: "**Name**: what it does"."""
    return "  \n".join(f"**{names[k]}**: {text}" for k, text in what.items())


@dataclass(frozen=True)
class ModelConfig:
    """The network: architecture, recurrent cell, sizes and input options.

    `arch="repeat"` is seeds 000/003 (encoder -> RepeatVector -> decoder); "teacher" is seeds
    001/004 (encoder states seed the decoder, which reads the target shifted by one step);
    "attention" is "teacher" plus attention over the encoder's outputs at every decoder step,
    scored as `attention`. `decoder_units` may differ from `units` only for "repeat".
    """

    arch: str = setting("teacher", "Architecture", choices=ARCHS, names=ARCH_NAMES,
                        help=choices_help(ARCH_SHORT, ARCH_WHAT))
    cell: str = setting("lstm", "Cell", choices=CELLS, names={"lstm": "LSTM", "gru": "GRU"})
    units: int = setting(128, "Units", low=1, high=1024, step=1,
                         help="The size of the encoder's state (and the decoder's).")
    decoder_units: int | None = setting(None, "Decoder units", low=1, high=2048, step=1,
                                        unset=0, unset_means="the same as the encoder's units",
                                        help="The repeat architecture's decoder may differ "
                                             "in size from its encoder.")
    layers: int = setting(1, "Layers", low=1, high=3, step=1,
                          help="Recurrent layers stacked in the encoder and in the decoder.")
    bidirectional: bool = setting(
        False, "Bidirectional",
        help="The encoder reads the input both left to right and right to left.")
    reverse_source: bool = setting(
        False, "Reversed source",
        help="Feed the input backwards (Sutskever et al. 2014): its first tokens end up next "
             "to the first tokens of the output.")
    embedding: int = setting(
        0, "Embedding", low=0, high=512, step=1,
        help="Size of a learned vector per token. 0: one-hot input (a vector with a single 1 "
             "per token), as in the seeds.")
    dropout: float = setting(0.0, "Dropout", low=0.0, high=0.8, step=0.05, slider=True,
                             help="The share of the recurrent layers' inputs dropped in "
                                  "training, against overfitting.")
    attention: str = setting(
        "bahdanau", "Attention score", choices=ATTENTIONS, names=ATTENTION_NAMES,
        help="How the decoder scores each input step against its own state before mixing "
             "them:  \n" + choices_help(ATTENTION_NAMES, ATTENTION_WHAT))

    def __post_init__(self):
        check_fields(self)
        if self.decoder_units is not None and self.feeds_back \
                and self.decoder_units != self.state_units:
            raise InvalidInput(
                "With teacher forcing the encoder's final states become the decoder's "
                f"initial states, so the decoder has {self.state_units} units; "
                "different decoder units need the repeat architecture.")

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
    on some of `eval_samples` held-out examples (as many as cost about 5% of the chunk's
    training), and on all of them near the target and after the run's last chunk. It stops
    at `max_samples`, after `max_seconds` of training, or once exact match reaches
    `target_accuracy` (if set).
    """

    batch_size: int = setting(128, "Batch size", low=1, high=4096, step=16,
                              help="Examples per training step.")
    learning_rate: float = setting(0.01, "Learning rate", low=1e-6, high=1.0, step=0.001,
                                   fmt="%.4f", help="The Adam optimiser's step size.")
    max_samples: int = setting(200_000, "Samples budget", low=1, high=20_000_000,
                               step=10_000, help="The most training examples the run may see.")
    max_seconds: float = setting(600.0, "Time budget (s)", low=1.0, high=24 * 3600.0,
                                 step=10.0, fmt="%.0f",
                                 help="The most seconds of training the run may take.")
    target_accuracy: float | None = setting(
        None, "Target", low=0.01, high=1.0, step=0.01, fmt="%.2f", unset=0.0,
        unset_means="no target, train until a budget runs out",
        help="Stop once this share of outputs is exactly right (0.99 = 99%).")
    seed: int = setting(0, "Seed", low=0, high=2**31 - 1, step=1,
                        help="Starts the weights and the training examples; the same seed "
                             "and settings give the same run (unless an automatic "
                             "*Compiled step* switches a long run to XLA, which rounds "
                             "differently).")
    chunk_batches: int = setting(25, "Batches per chunk", low=1, high=10_000, step=5,
                                 help="The curves and live predictions update after each "
                                      "chunk.")
    eval_samples: int = setting(500, "Scored per chunk", low=1, high=100_000, step=100,
                                help="Held-out examples for the metrics. After each chunk "
                                     "as many of them are scored as cost about 5% of its "
                                     "training (at least 200); all of them near the target "
                                     "and after the last chunk.")
    clipnorm: float = setting(1.0, "Clip norm", low=0.0, high=1000.0, step=0.5, fmt="%.1f",
                              help="Gradient clipping: scale each update down to this length "
                                   "at most. 0: no clipping.")
    schedule: str = setting("constant", "Learning-rate schedule", choices=tuple(SCHEDULE_NAMES),
                            names=SCHEDULE_NAMES,
                            help=choices_help(SCHEDULE_NAMES, SCHEDULE_WHAT))
    compiler: str = setting("auto", "Compiled step", choices=tuple(COMPILER_NAMES),
                            names=COMPILER_NAMES,
                            help="How the training step is compiled (the results agree "
                                 "but for rounding):  \n"
                                 + choices_help(COMPILER_NAMES, COMPILER_WHAT))

    def __post_init__(self):
        check_fields(self)


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
