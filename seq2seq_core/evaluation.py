"""Scoring a model on fresh examples: exact match, per-position accuracy, mistakes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .decoding import Decoder
from .models import Seq2Seq
from .tasks import Pairs


@dataclass(frozen=True)
class Evaluation:
    """Exact-match share, accuracy per output position, and a table of wrong outputs.

    `per_position` is NaN where no scored example reaches that position (short outputs).
    """

    samples: int
    exact_match: float
    token_accuracy: float
    per_position: np.ndarray
    mistakes: pd.DataFrame
    on_training_pairs: bool = False
    predicted: np.ndarray | None = None
    exact: np.ndarray | None = None


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
    of exact match (every counted token right) and token accuracy."""
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
    return Evaluation(len(pairs), float(exact.mean()) if len(pairs) else 0.0,
                      float(right.sum() / max(mask.sum(), 1)), per_pos, mistakes,
                      bool(getattr(task, "evaluates_on_training_pairs", False)), predicted, exact)
