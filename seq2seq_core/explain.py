"""Words about a model, generated from its own configuration so they are true for it.

`describe_model` is the one short description of a network; `run_name` names a run by what
differs from the defaults; the `*_note` functions are the sentences the inspector shows,
each right for the architecture on screen.
"""
from __future__ import annotations

import math
from dataclasses import fields, is_dataclass

from .config import ModelConfig, TrainConfig

# How a task setting reads in a run's name (only settings that differ from their default).
SETTING_WORDS = {
    "n_in": "{} in", "n_out": "{} out", "cardinality": "values 1..{}", "mode": "{}",
    "n_terms": "{} terms", "largest": "numbers 1..{}", "operators": "ops {}",
    "variable_terms": "variable terms", "corpus": "{}", "max_pairs": "{:,} pairs",
    "holdout": "held out {:.0%}", "max_length": "up to {} chars", "first_year": "from {}",
    "last_year": "to {}", "formats": "formats {}",
}
TRAIN_WORDS = {"batch_size": "batch {}", "learning_rate": "lr {:g}", "seed": "seed {}"}


def describe_model(m: ModelConfig) -> str:
    """'attention (luong), LSTM 128 (bidirectional, 2 layers)'."""
    units = f"{m.units}/{m.decoder_units}" if m.arch == "repeat" and m.decoder_units else f"{m.units}"
    extras = [x for x, on in (("bidirectional", m.bidirectional),
                              ("reversed source", m.reverse_source),
                              (f"embedding {m.embedding}", m.embedding),
                              (f"{m.layers} layers", m.layers > 1),
                              (f"dropout {m.dropout:g}", m.dropout)) if on]
    arch = f"attention ({m.attention})" if m.arch == "attention" else m.arch
    return f"{arch}, {m.cell.upper()} {units}" + (f" ({', '.join(extras)})" if extras else "")


def _value_words(value) -> str:
    if isinstance(value, (tuple, list)):
        return "+".join(map(str, value))
    return value


def setting_changes(settings) -> list[str]:
    """The task settings that differ from the task's defaults, in words."""
    if not is_dataclass(settings):
        return []
    default = type(settings)()
    out = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value == getattr(default, f.name) or f.name not in SETTING_WORDS:
            continue
        if isinstance(value, bool):
            out.append(SETTING_WORDS[f.name] if value else f"not {SETTING_WORDS[f.name]}")
        else:
            out.append(SETTING_WORDS[f.name].format(_value_words(value)))
    return out


def training_changes(train: TrainConfig | None) -> list[str]:
    if train is None:
        return []
    default = TrainConfig()
    return [words.format(getattr(train, name)) for name, words in TRAIN_WORDS.items()
            if getattr(train, name) != getattr(default, name)]


def run_name(task_name: str, settings, model: ModelConfig, train: TrainConfig | None = None) -> str:
    """A run's name: its task, the task settings that differ from the defaults, the network,
    and the training settings that differ: 'addition (4 terms) · repeat, LSTM 75/50 · lr 0.01'."""
    task = task_name
    if changed := setting_changes(settings):
        task += f" ({', '.join(changed)})"
    parts = [task, describe_model(model), *([", ".join(t)] if (t := training_changes(train)) else [])]
    return " · ".join(parts)


def feeds_back_note(m: ModelConfig) -> str:
    """What the decoder reads at each step, for the step-by-step view."""
    if m.feeds_back:
        return ("Each chosen token is fed back in as the decoder's next input, so an early "
                "mistake can throw off the steps after it.")
    return ("This repeat-vector decoder never reads its own previous token: every step sees "
            "the same summary of the input, so one wrong token does not change the steps "
            "after it.")


def handoff_note(m: ModelConfig) -> str:
    """How the encoder's final state reaches the decoder."""
    if m.arch == "attention":
        return ("After the last token, the top layer's state becomes the decoder's starting "
                "state. With attention the decoder does not depend on these numbers alone: at "
                "every step it can look back at all the encoder's states above.")
    handoff = ("becomes the decoder's starting state" if m.arch == "teacher"
               else "is repeated as the decoder's input at every output step")
    return (f"After the last token, the top layer's state {handoff}: everything the decoder "
            "knows about the input has to fit in these numbers.")


def seen_note(possible_inputs: int | None, samples_seen: int | None, generated: bool) -> str:
    """Whether 'fresh' evaluation examples can be new to the model, in one sentence.

    Training draws inputs at random with replacement, so after s samples of N possible
    inputs a share 1 - exp(-s/N) of them has been seen (and so of fresh random examples).
    """
    if not generated:
        return ""
    if possible_inputs is None or samples_seen is None:
        return ("Scored on fresh random examples; how many of them it met in training is not "
                "known for this model.")
    seen = -math.expm1(-samples_seen / possible_inputs)
    share = f"{seen:.0%}" if seen >= 0.01 else "under 1%"
    if seen < 0.5:
        return (f"Scored on fresh random examples: this task has {possible_inputs:,} possible "
                f"inputs and training drew {samples_seen:,} samples, so about {share} of them "
                "were met in training and the score mostly measures how well it generalises.")
    return (f"This task has only {possible_inputs:,} possible inputs and training drew "
            f"{samples_seen:,} samples, so about {share} of these examples were seen in "
            "training: the score says how well the model learned them, not how it handles "
            "new ones.")
