"""Scoring a model on fresh examples: exact match, per-position accuracy, mistakes and, for
tasks that score text (`text_metrics`, translation), corpus chrF and BLEU.

The text scores run after every training chunk too: `mt_metrics.text_scores` takes about
0.13 s for 1,000 French sentences of 20-30 characters (median of 7; 0.12-0.17 s on an idle
core of the 2-core test machine, up to 0.2-0.3 s when both cores are busy; chrF about 60% of
it, all in sacrebleu's Python), so about 0.03 s for the 200 of a short chunk's check.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .corpus import Corpus
from .decoding import Decoder
from .errors import InvalidInput
from .models import Seq2Seq
from .mt_metrics import TextScores, text_scores
from .strategies import ModelStepper, beam_search
from .tasks import Pairs


@dataclass(frozen=True)
class Evaluation:
    """Exact-match share, accuracy per output position, and a table of wrong outputs.

    `per_position` is NaN where no scored example reaches that position (short outputs).
    `chrf` and `bleu` (0-100, corpus level) are set for tasks that score text, else None.
    """

    samples: int
    exact_match: float
    token_accuracy: float
    per_position: np.ndarray
    mistakes: pd.DataFrame
    on_training_pairs: bool = False
    predicted: np.ndarray | None = None
    exact: np.ndarray | None = None
    chrf: float | None = None
    bleu: float | None = None


def correct_tokens(model: Seq2Seq, pairs: Pairs, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right, counted): per-position correctness and which positions count."""
    mask = model.task.target_mask(pairs.target).astype(bool)
    return (predicted == pairs.target) & mask, mask


def evaluate(model: Seq2Seq, samples: int = 1000, seed: int = 12345,
             max_mistakes: int = 50) -> Evaluation:
    """Greedy-decode `samples` held-out examples and score them."""
    return score(model, model.task.held_out(samples, seed), max_mistakes)


def score(model: Seq2Seq, pairs: Pairs, max_mistakes: int = 50) -> Evaluation:
    """Score greedy predictions for given pairs."""
    return score_predicted(model, pairs, Decoder(model).predict_ids(pairs.source), max_mistakes)


def score_predicted(model: Seq2Seq, pairs: Pairs, predicted: np.ndarray,
                    max_mistakes: int = 50) -> Evaluation:
    """Score already decoded token ids (n, T) against the pairs' targets: the one definition
    of exact match (every counted token right), token accuracy and, for a task with
    `text_metrics`, chrF and BLEU of every decoded text against its target text."""
    task = model.task
    right, mask = correct_tokens(model, pairs, predicted)
    exact = (right | ~mask).all(axis=1)
    counts = mask.sum(axis=0)
    per_pos = np.where(counts > 0, right.sum(axis=0) / np.maximum(counts, 1), np.nan)
    wrong = np.flatnonzero(~exact)[:max_mistakes]
    mistakes = pd.DataFrame({
        "input": [task.source_text(pairs.source[i]) for i in wrong],
        "expected": [task.target_text(pairs.target[i]) for i in wrong],
        "predicted": [task.target_text(predicted[i]) for i in wrong],
    })
    text = None
    if task.text_metrics:
        text = text_scores([task.target_text(row) for row in predicted],
                           [task.target_text(row) for row in pairs.target])
    return Evaluation(len(pairs), float(exact.mean()) if len(pairs) else 0.0,
                      float(right.sum() / max(mask.sum(), 1)), per_pos, mistakes,
                      bool(getattr(task, "evaluates_on_training_pairs", False)), predicted, exact,
                      None if text is None else text.chrf, None if text is None else text.bleu)


# ---- a file of test pairs ------------------------------------------------------------------
EXAMPLES_SHOWN = 10


@dataclass(frozen=True)
class PairsScore:
    """A translation model's outputs for every source of a pairs file, scored against its
    references. A source the model cannot read (`unreadable`: source, why) is scored as an
    empty output, so sentences the model cannot take never raise a score. (Lines the pairs
    reader skips, too long or a repeated source, are counted there, not scored.) Exact match
    compares the output and reference texts."""

    sources: tuple[str, ...]
    references: tuple[str, ...]
    outputs: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...]
    scores: TextScores
    exact_match: float
    decoding: str  # "greedy" or "beam 3"
    seconds: float

    @property
    def pairs(self) -> int:
        return len(self.references)

    def rows(self, limit: int | None = None) -> list[dict]:
        """source, output and reference of the first `limit` pairs (all if None)."""
        return [{"source": s, "output": o, "reference": r} for s, o, r
                in list(zip(self.sources, self.outputs, self.references))[:limit]]


def translate(model: Seq2Seq, sources: list[str], beam: int | None = None):
    """Each source's output (greedy in batches, or beam search of width `beam`, one input at a
    time) and the sources the model cannot read, with why; those get '' as their output."""
    task, outputs, unreadable, readable = model.task, [""] * len(sources), [], []
    for i, text in enumerate(sources):
        try:
            readable.append((i, task.validate(text)))
        except InvalidInput as err:
            unreadable.append((text, str(err)))
    if beam is None:
        ids = Decoder(model).predict_ids(task.encode_sources([t for _, t in readable])) \
            if readable else []
        texts = [task.target_text(row) for row in ids]
    else:
        texts = [beam_text(model, t, beam) for _, t in readable]
    for (i, _), text in zip(readable, texts):
        outputs[i] = text
    return outputs, unreadable


def beam_text(model: Seq2Seq, text: str, width: int) -> str:
    """The best hypothesis of a beam search of `width` on one readable input, as text."""
    best = beam_search(ModelStepper(model, text), width).best
    return model.task.target_text(np.asarray(best.tokens, dtype=int))


def score_pairs(model: Seq2Seq, corpus: Corpus, beam: int | None = None) -> PairsScore:
    """chrF, BLEU and exact match of the model's translations of `corpus`' sources."""
    if not model.task.text_metrics:
        raise InvalidInput(f"A pairs file scores translations, and this model's task is "
                           f"{model.task.name!r}: use a translation model, or score it on "
                           "fresh samples of its task.")
    sources, references = [a for a, _ in corpus.pairs], [b for _, b in corpus.pairs]
    began = time.perf_counter()
    outputs, unreadable = translate(model, sources, beam)
    exact = sum(o == r for o, r in zip(outputs, references)) / max(len(references), 1)
    return PairsScore(tuple(sources), tuple(references), tuple(outputs), tuple(unreadable),
                      text_scores(outputs, references), exact,
                      "greedy" if beam is None else f"beam {beam}",
                      time.perf_counter() - began)
