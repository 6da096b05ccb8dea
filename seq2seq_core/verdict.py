"""What a run's numbers say, in plain words: the end-of-run verdict and the overfitting notice.

Pure functions of a trainer's history (ChunkRecords), so what the page says always matches
the numbers on it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEARNED, PARTLY = 0.9, 0.3   # exact match above which a run has learned / partly learned
RISE = 1.25                  # validation loss this far above its lowest value is overfitting
MIN_RISE = 0.05              # ... and at least this much higher (a converged loss wobbles)
RISING_CHUNKS = 3            # ... at least this many chunks after the lowest one
HIGH_CHUNKS = 2              # ... the last this many of them all that high
# Character-level translation needed about this many passes over its pairs before most
# characters of them were right (benchmarks/corpus_time.py: 400 Tatoeba pairs, the default
# network, 2 cores: 53% of characters after 224 passes, 65% after 283 passes in 240 s).
PASSES_NEEDED = 250


@dataclass(frozen=True)
class Verdict:
    """`level` is "success", "info" or "warning" (how the page shows it)."""

    level: str
    text: str


def end_of_run(exact_match: float, token_accuracy: float, memorised: bool = False) -> Verdict:
    """The verdict a finished or stopped run's last scores deserve. `memorised`: it was
    scored on the pairs it trained on (nothing held out)."""
    em, tok = f"{exact_match:.0%}", f"{token_accuracy:.0%}"
    if exact_match >= LEARNED:
        if memorised:
            return Verdict("success", f"The model has memorised its training pairs: {em} of "
                                      "them come out exactly right. Nothing was held out, so "
                                      "this says nothing about new sentences. Open **Inspect** "
                                      "to look inside it.")
        return Verdict("success", f"The model has learned the task: {em} of the scored "
                                  "outputs are exactly right. Open **Inspect** to look inside it.")
    if exact_match >= PARTLY:
        return Verdict("info", f"The model has partly learned the task: {em} of the outputs "
                               f"are exactly right ({tok} of the tokens). More training time "
                               "or a bigger network should help; **Inspect** shows where it "
                               "goes wrong.")
    return Verdict("warning", f"The model has not learned the task yet: only {em} of the "
                              f"outputs are exactly right ({tok} of the tokens). Such a model "
                              "often writes nearly the same output for every input. Train "
                              "longer (raise the time or samples budget), or try one of the "
                              "presets on the Home page.")


def corpus_time_note(pairs: int, samples_per_second: float, samples_seen: int) -> str:
    """For a corpus: how long it needs at this speed, from the measured passes it takes."""
    if pairs <= 0 or samples_per_second <= 0:
        return ""
    needed = PASSES_NEEDED * pairs
    if samples_seen >= needed:
        return ""
    seconds = (needed - samples_seen) / samples_per_second
    return (f"This run made {samples_seen / pairs:,.0f} passes over its {pairs:,} training "
            f"pairs. Measured on 2 CPU cores, character-level translation needed about "
            f"{PASSES_NEEDED} passes before most characters of the pairs it trains on were "
            f"right (translating new sentences well needs thousands of pairs and far longer): "
            f"at this run's {samples_per_second:,.0f} samples/s, about {_duration(seconds)} "
            "more.")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours"


def overfitting(history: Sequence) -> str:
    """A notice when validation loss keeps rising while training loss falls, else ''.

    Only for corpora: a generated task draws fresh examples every batch, so there are no
    training examples to memorise.
    """
    points = [(i, r.val_loss, r.train_loss) for i, r in enumerate(history)
              if _finite(r.val_loss) and _finite(r.train_loss)]
    if len(points) < RISING_CHUNKS + 1:
        return ""
    best = min(points, key=lambda p: p[1])
    after = [p for p in points if p[0] > best[0]]
    last = points[-1]
    high = all(p[1] >= max(best[1] * RISE, best[1] + MIN_RISE) for p in points[-HIGH_CHUNKS:])
    if len(after) < RISING_CHUNKS or not high or last[2] >= best[2]:
        return ""
    return (f"**Overfitting.** The validation loss has risen from {best[1]:.3g} (chunk "
            f"{best[0] + 1}) to {last[1]:.3g} while the training loss kept falling "
            f"({best[2]:.3g} → {last[2]:.3g}): the model is memorising its training pairs "
            "instead of learning what carries over to new ones. Try more training pairs, "
            "dropout of 0.2-0.3, fewer units, or a shorter run that stops near the lowest "
            "validation loss.")


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)
