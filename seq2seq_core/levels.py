"""Why subwords? The same network trained for the same time at each token level (characters,
words, subwords) on the same pairs, scored by held-out chrF after every chunk.

Characters give long sequences and a tiny vocabulary, words short sequences and a huge one
(and no way to read a word the corpus never had); subwords sit between, and in class time
they usually translate best. The models train one after another (each gets the machine to
itself, so the seconds compare), each recorded in the run history.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .config import ModelConfig, TrainConfig
from .corpus import Corpus
from .jobs import JobRunner, Plan, Training
from .presets import CORPUS_PRESET
from .settings import check_fields, setting
from .tasks import TranslationSettings, make_task
from .tokenizing import LEVEL_NAMES

LEVELS = tuple(LEVEL_NAMES)
ROW_COLUMNS = ["level", "seconds", "samples", "chrf", "bleu", "samples_per_second", "steps"]


@dataclass(frozen=True)
class LevelsConfig:
    """How long each level trains, on how many pairs, with how large a network."""

    seconds: float = setting(60.0, "Time per level (s)", low=10.0, high=600.0, step=10.0,
                             fmt="%.0f", help="Training time of each of the three models.")
    max_pairs: int = setting(2000, "Number of pairs", low=50, high=20_000, step=50,
                             help="The first this many pairs of the corpus (a tenth of them "
                                  "held out to score).")
    units: int = setting(256, "Units", low=16, high=512, step=16,
                         help="The LSTM size, the same at every level (the rest is the "
                              "preset for real corpora: Luong attention, embeddings).")

    def __post_init__(self):
        check_fields(self)

    def model_config(self) -> ModelConfig:
        return replace(CORPUS_PRESET.model, units=self.units)

    def train_config(self) -> TrainConfig:
        """The preset's training, at a constant rate: a decay laid over a samples budget
        would end at a different time for each level."""
        return replace(CORPUS_PRESET.train, max_seconds=self.seconds, max_samples=20_000_000,
                       schedule="constant", chunk_batches=10)

    def task(self, level: str, corpus: Corpus | None):
        settings = TranslationSettings(
            corpus=corpus.name if corpus is not None else "phrasebook",
            max_pairs=self.max_pairs, holdout=0.1, max_length=CORPUS_PRESET.settings.max_length,
            level=level, subwords=CORPUS_PRESET.settings.subwords)
        return make_task("translation", settings, corpus=corpus)


def curve_rows(level: str, job) -> list[dict]:
    """One row per chunk of a level's training: its held-out chrF and BLEU over time."""
    steps = job.task.target_len
    return [{"level": level, "seconds": r.train_seconds, "samples": r.samples_seen,
             "chrf": r.chrf, "bleu": r.bleu, "samples_per_second": r.samples_per_second,
             "steps": steps} for r in job.snapshot().history]


def level_tasks(cfg: LevelsConfig, corpus: Corpus | None) -> dict:
    """The translation task at each level, on the same pairs (None: the phrasebook)."""
    return {level: cfg.task(level, corpus) for level in LEVELS}


def level_plans(cfg: LevelsConfig, tasks: dict, tag: str) -> list[Plan]:
    """One plan per token level (`tasks`: level_tasks), same network and time."""
    return [Plan(LEVEL_NAMES[level],
                 Training(tasks[level], cfg.model_config(), cfg.train_config(),
                          name=f"why subwords: {LEVEL_NAMES[level].lower()}", tag=tag,
                          keep_model=False),
                 lambda job, _run, level=level: curve_rows(level, job))
            for level in LEVELS]


def levels_runner(cfg: LevelsConfig, tasks: dict, executor, history=None,
                  owner: str | None = None, tag: str = "why-subwords") -> JobRunner:
    """The three trainings (`tasks`: level_tasks), one after another."""
    return JobRunner(level_plans(cfg, tasks, tag), executor, workers=1, history=history,
                     owner=owner)


def levels_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=ROW_COLUMNS)


def levels_summary(frame: pd.DataFrame) -> str:
    """'After 60 s: subwords (BPE) chrF 34.0, words 28.1, characters 17.5 — ...'."""
    if frame.empty:
        return ""
    last = frame.sort_values("seconds").groupby("level").last()
    order = last.sort_values("chrf", ascending=False)
    parts = [f"{LEVEL_NAMES[lv].lower()} chrF {row.chrf:.1f} ({row.steps} output steps at most, "
             f"{row.samples_per_second:,.0f} sentences/s)" for lv, row in order.iterrows()]
    best = LEVEL_NAMES[order.index[0]].lower()
    return f"At the end of their time: {'; '.join(parts)}. Best: **{best}**."
