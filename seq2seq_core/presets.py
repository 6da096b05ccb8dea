"""One-click starting points, as data: each seed's example exactly, and a fast demo per task.

A preset is a task with its settings, a network and a way to train it. The app's Home page
lists them; clicking one fills in every widget of the Train page.

Fast demos were measured on 2 shared CPU cores (training time to the target, 2026):
reverse ~2 s, addition ~3 s, dates ~25 s, translation (100 phrasebook pairs) ~25 s. The
reverse and addition training settings were chosen by measuring samples and seconds to the
target over several seeds (`benchmarks/fast_training.py`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import ModelConfig, TrainConfig
from .tasks import (AdditionSettings, DateSettings, ReverseSettings, TaskSettings,
                    TranslationSettings)


@dataclass(frozen=True)
class Preset:
    """A named, ready-to-train configuration.

    `settings` is the task's settings dataclass (e.g. AdditionSettings); `fast` marks the
    demos that reach high accuracy in well under a minute on a laptop.
    """

    name: str
    description: str
    task: str
    settings: TaskSettings
    model: ModelConfig
    train: TrainConfig
    fast: bool = False


FAST_DEMOS: tuple[Preset, ...] = (
    Preset(
        "Fast demo: reverse",
        "Reverse the first 3 of 6 integers (1..50). Teacher forcing, LSTM 128, a large "
        "learning rate that warms up and then decays: near-perfect in about two seconds.",
        "reverse", ReverseSettings(),
        ModelConfig(arch="teacher", units=128),
        TrainConfig(batch_size=128, learning_rate=0.05, max_samples=35_000, max_seconds=60,
                    target_accuracy=0.99, chunk_batches=25, schedule="warmup_cosine"),
        fast=True),
    Preset(
        "Fast demo: addition",
        "Add three numbers 1..10 written as characters ('3+10+7' -> '20'). Repeat "
        "architecture, LSTM 75/50 as in seed 003, trained with batches of 64, a 20x larger "
        "learning rate and no gradient clipping.",
        "addition", AdditionSettings(),
        ModelConfig(arch="repeat", units=75, decoder_units=50),
        TrainConfig(batch_size=64, learning_rate=0.02, clipnorm=0.0, max_samples=300_000,
                    max_seconds=60, target_accuracy=0.99, chunk_batches=20),
        fast=True),
    Preset(
        "Fast demo: dates",
        "Read dates written in three common formats ('3 March 2021', '03/03/2021', "
        "'Mar 3, 21') and write them as ISO 2021-03-03. Teacher forcing, LSTM 128.",
        "dates", DateSettings(formats=("d MMMM yyyy", "dd/mm/yyyy", "MMM d, yy")),
        ModelConfig(arch="teacher", units=128),
        TrainConfig(batch_size=128, learning_rate=0.01, max_samples=200_000, max_seconds=60,
                    target_accuracy=0.97),
        fast=True),
    Preset(
        "Fast demo: translation",
        "Memorise the first 100 English -> French phrasebook pairs, character by character "
        "(nothing held out: scored on the pairs it trains on, as the Keras example does).",
        "translation", TranslationSettings(max_pairs=100, holdout=0.0),
        ModelConfig(arch="teacher", units=128),
        TrainConfig(batch_size=32, learning_rate=0.01, max_samples=60_000, max_seconds=60,
                    target_accuracy=0.95),
        fast=True),
)

SEED_EXAMPLES: tuple[Preset, ...] = (
    Preset(
        "Seed 003: addition (repeat, LSTM 75/50)",
        "The original addition example: 3 terms 1..10, encoder LSTM 75 -> RepeatVector -> "
        "decoder LSTM 50, 75,000 samples in batches of 32, Adam at Keras' default 0.001.",
        "addition", AdditionSettings(n_terms=3, largest=10),
        ModelConfig(arch="repeat", cell="lstm", units=75, decoder_units=50),
        TrainConfig(batch_size=32, learning_rate=0.001, max_samples=75_000, max_seconds=600)),
    Preset(
        "Seed 001: reverse (teacher forcing, 128)",
        "The original integer-sequence example: 6 integers 1..50, output the first 3 "
        "reversed; LSTM 128 with teacher forcing, 100,000 samples in batches of 32.",
        "reverse", ReverseSettings(n_in=6, n_out=3, cardinality=50, mode="reverse"),
        ModelConfig(arch="teacher", cell="lstm", units=128),
        TrainConfig(batch_size=32, learning_rate=0.001, max_samples=100_000, max_seconds=600)),
    Preset(
        "Keras example: character-level translation",
        "The Keras lstm_seq2seq example (teacher forcing, LSTM 256, batch 64) on the "
        "built-in phrasebook instead of 10,000 Anki pairs; every pair is trained on and "
        "scored, so it measures memorisation.",
        "translation", TranslationSettings(corpus="phrasebook", max_pairs=400, holdout=0.0),
        ModelConfig(arch="teacher", cell="lstm", units=256),
        TrainConfig(batch_size=64, learning_rate=0.001, max_samples=40_000, max_seconds=600)),
)

# Chosen by measurement for uploaded corpora (`benchmarks/translation_peer.py --preset`,
# numbers in benchmarks/README.md): of three networks and three token levels, the best
# held-out chrF per second on the 20,000-line Tatoeba English -> French file, 2 cores; its
# samples budget is 10 minutes of training there. The Train page proposes it after an upload;
# `train --task translation --set corpus=PATH` starts from it.
CORPUS_PRESET = Preset(
    "Translation: your own sentence pairs",
    "Subwords (byte-pair encoding, 2,000 pieces a language), attention (Luong), LSTM 256 with "
    "64-wide embeddings, batches of 128, Adam at 0.005 with warm-up and cosine decay over "
    "650,000 samples (10 minutes on 2 CPU cores). Of the settings measured it translated best "
    "per second of training: on 11,700 Tatoeba English-French pairs, held-out chrF 40 after "
    "2.5 minutes and 42.5 at the end.",
    "translation", TranslationSettings(corpus="upload", max_pairs=20_000, holdout=0.1,
                                       max_length=60, level="subword", subwords=2000),
    ModelConfig(arch="attention", attention="luong", cell="lstm", units=256, embedding=64),
    TrainConfig(batch_size=128, learning_rate=0.005, max_samples=650_000, max_seconds=600,
                schedule="warmup_cosine", chunk_batches=25))

PRESETS: tuple[Preset, ...] = FAST_DEMOS + SEED_EXAMPLES


def preset_named(name: str) -> Preset:
    """The preset with this name (KeyError if there is none)."""
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise KeyError(name)
