"""Corpus-level chrF and BLEU of translations, as sacrebleu computes them (0-100 scale).

chrF is the character n-gram F-score (orders 1-6, recall weighted twice as much as
precision, no word n-grams: plain chrF, not chrF++). It gives partial credit for a word
spelt nearly right, so it is fair to character-level models and to short sentences, where
one wrong letter costs a whole word under BLEU. BLEU (word 1-4-gram precision with a brevity
penalty, tokenizer 13a, exponential smoothing) is the classic score papers report, kept at
sacrebleu's defaults except `effective_order`, which is on. That changes nothing whenever some
output has 4 or more tokens (the counts are summed over the corpus, so every order has
n-grams: the score equals the default corpus BLEU); when no output has, as with a corpus of
very short sentences ("Va !", "Salut !"), the default is 0 (BLEU is undefined there), and
the effective order averages over the orders that exist instead, as sacrebleu does for
sentence-level BLEU. `force` is on too: it only silences sacrebleu's warning that outputs
ending in " ." look tokenized, which a half-trained model's outputs would print after every
training chunk; the scores are the same.

The metric objects are built afresh on every call (about 15 µs each), so concurrent
trainings never share one (a call writes to its metric object). The time a call takes is
in `evaluation`'s docstring.
"""
from __future__ import annotations

from dataclasses import dataclass

from sacrebleu.metrics import BLEU, CHRF

# What each score means, for the pages that show one.
CHRF_HELP = ("chrF (0-100): how many of the references' character n-grams the outputs share "
             "(an F-score), so a word spelt nearly right earns part of its credit.")
BLEU_HELP = "BLEU (0-100): word n-gram precision with a brevity penalty, the classic score."


@dataclass(frozen=True)
class TextScores:
    """Corpus chrF and BLEU (0-100) over `sentences` hypothesis/reference pairs."""

    chrf: float
    bleu: float
    sentences: int


def text_scores(hypotheses: list[str], references: list[str]) -> TextScores:
    """chrF and BLEU of `hypotheses` against one reference each; 0.0 for no sentences."""
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references; "
                         "give one reference per hypothesis.")
    if not hypotheses:
        return TextScores(0.0, 0.0, 0)
    refs = [references]
    chrf = CHRF(char_order=6, word_order=0).corpus_score(hypotheses, refs).score
    bleu = BLEU(effective_order=True, force=True).corpus_score(hypotheses, refs).score
    return TextScores(float(chrf), float(bleu), len(hypotheses))
