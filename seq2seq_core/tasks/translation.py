"""Character-level translation, as in the Keras example: start and end symbols, teacher forcing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..corpus import Corpus, clean_name, phrasebook
from ..errors import InvalidInput
from ..vocab import END, PAD, START, Vocabulary
from .base import Pairs, Task
from .limits import check_float, check_int, check_text


def _builtin_corpus(name: str) -> Corpus:
    """The built-in phrasebook. A task never reads a file by name: uploads, model files and
    the command line hand their pairs over as a Corpus."""
    if name != "phrasebook":
        raise InvalidInput(f"The sentence pairs {clean_name(name)!r} are not built in: "
                           "upload that file again, or choose the built-in phrasebook.")
    return phrasebook()


@dataclass(frozen=True)
class TranslationSettings:
    """Which corpus, how many of its pairs, and the share held out for evaluation.

    With `holdout` 0 every pair is trained on and evaluation measures memorisation,
    as the Keras example does.
    """

    corpus: str = "phrasebook"
    max_pairs: int = 400
    holdout: float = 0.1
    max_length: int = 40

    def __post_init__(self):
        check_text("Corpus name", self.corpus, 300)
        check_int("Number of pairs", self.max_pairs, 10, 20_000)
        check_float("Held-out share", self.holdout, 0.0, 0.5)
        check_int("Longest sentence", self.max_length, 4, 80)


class TranslationTask(Task):
    name = "translation"
    title = "Character-level translation"
    summary = ("The source is a short English sentence; the target is its French translation, "
               "produced one character at a time until the end symbol, as in the Keras example.")
    generated = False
    target_align = "right"

    def __init__(self, settings: TranslationSettings | None = None, corpus: Corpus | None = None):
        self.settings = settings or TranslationSettings()
        s = self.settings
        if corpus is not None and not isinstance(corpus, Corpus):
            raise InvalidInput("A translation task takes its sentence pairs as a Corpus.")
        self.corpus = corpus if corpus is not None else _builtin_corpus(s.corpus)
        pairs = [p for p in self.corpus.pairs if max(len(p[0]), len(p[1])) <= s.max_length]
        pairs = pairs[: s.max_pairs]
        if len(pairs) < 10:
            raise InvalidInput(f"Only {len(pairs)} pairs are at most {s.max_length} characters "
                               "long; at least 10 are needed.")
        self.pairs = tuple(pairs)
        src_chars = sorted({c for a, _ in pairs for c in a})
        tgt_chars = sorted({c for _, b in pairs for c in b})
        self.source_vocab = Vocabulary((PAD,) + tuple(src_chars), pad=0)
        self.target_vocab = Vocabulary((PAD, START, END) + tuple(tgt_chars), pad=0, start=1, end=2)
        self.source_len = max(len(a) for a, _ in pairs)
        self.target_len = max(len(b) for _, b in pairs) + 1
        order = np.random.default_rng(0).permutation(len(pairs))
        n_valid = int(round(len(pairs) * s.holdout))
        self._valid_idx = np.sort(order[:n_valid])
        self._train_idx = np.sort(order[n_valid:])
        self._lookup = dict(pairs)

    @property
    def evaluates_on_training_pairs(self) -> bool:
        return len(self._valid_idx) == 0

    def split_pairs(self, split: str) -> list[tuple[str, str]]:
        idx = self._valid_idx if split == "valid" and len(self._valid_idx) else self._train_idx
        return [self.pairs[i] for i in idx]

    def encode_pairs(self, pairs) -> Pairs:
        src = self.source_vocab.encode_strings([a for a, _ in pairs], self.source_len)
        return Pairs(src, self.encode_targets([b for _, b in pairs]))

    def sample(self, rng, n, split="train") -> Pairs:
        pool = self.split_pairs(split)
        picks = rng.integers(0, len(pool), size=n)
        return self.encode_pairs([pool[i] for i in picks])

    def held_out(self, n: int, seed: int) -> Pairs:
        return self.encode_pairs(self.split_pairs("valid")[:n])

    def map_inputs(self, n: int, seed: int) -> Pairs:
        order = np.random.default_rng(seed).permutation(len(self.pairs))[:n]
        return self.encode_pairs([self.pairs[i] for i in np.sort(order)])

    def validate(self, text: str) -> str:
        return self.check_common(text.strip() if isinstance(text, str) else text)

    def answer(self, text: str) -> str | None:
        return self._lookup.get(self.validate(text))

    def example_inputs(self) -> list[str]:
        return [a for a, _ in self.pairs[:3]]

    def property_of(self, source):
        lengths = (source != self.source_vocab.pad).sum(axis=1)
        return "input length", lengths.astype(float)

    def describe(self) -> dict:
        return {**super().describe(), "pairs": len(self.pairs)}
