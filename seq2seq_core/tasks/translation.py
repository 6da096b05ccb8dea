"""Character-level translation, as in the Keras example: start and end symbols, teacher forcing."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..corpus import Corpus, clean_name, phrasebook
from ..errors import InvalidInput
from ..vocab import END, PAD, START, Vocabulary, and_list, plural, shown_tokens
from .base import Pairs, Task, check_length
from ..config import choices_help
from ..settings import check_fields, setting
from ..tokenizing import LEVEL_NAMES, LEVEL_UNITS, LEVEL_WHAT, piece_vocabulary


def _builtin_corpus(name: str) -> Corpus:
    """The built-in phrasebook. A task never reads a file by name: uploads, model files and
    the command line hand their pairs over as a Corpus."""
    if name != "phrasebook":
        raise InvalidInput(f"The sentence pairs {clean_name(name)!r} are not built in: "
                           "upload that file again, or choose the built-in phrasebook.")
    return phrasebook()


def pair_length(pair: tuple[str, str]) -> int:
    """A pair's length for *Longest sentence*: its longer side, in characters."""
    return max(len(pair[0]), len(pair[1]))


def held_out_count(pairs: int, holdout: float) -> int:
    """How many of `pairs` pairs a held-out share of `holdout` keeps for scoring."""
    return int(round(pairs * holdout))


@dataclass(frozen=True)
class TranslationSettings:
    """Which corpus, how many of its pairs, and the share held out for evaluation.

    With `holdout` 0 every pair is trained on and evaluation measures memorisation,
    as the Keras example does.
    """

    corpus: str = setting("phrasebook", "Sentence pairs", high=300,
                          help="The built-in phrasebook, or the name of an uploaded file.")
    max_pairs: int = setting(400, "Number of pairs", low=10, high=20_000, step=10,
                             help="The first this many pairs that fit *Longest sentence* "
                                  "are used.")
    holdout: float = setting(0.1, "Held-out share", low=0.0, high=0.5, step=0.05, slider=True,
                             help="0 trains on every pair and scores memorisation, as the "
                                  "Keras example does.")
    max_length: int = setting(40, "Longest sentence", low=4, high=80, step=1,
                              help="Pairs whose English or French side has more characters "
                                   "are left out.")
    level: str = setting("char", "Token level", choices=tuple(LEVEL_NAMES), names=LEVEL_NAMES,
                         help="What one step of the encoder reads and of the decoder "
                              "writes:  \n" + choices_help(LEVEL_NAMES, LEVEL_WHAT))
    subwords: int = setting(2000, "Subword vocabulary", low=100, high=8000, step=100,
                            help="Subword level only: how many pieces byte-pair encoding "
                                 "learns per language (fewer: shorter pieces, longer "
                                 "sequences).")

    def __post_init__(self):
        check_fields(self)


class TranslationTask(Task):
    name = "translation"
    label = "Translation (English → French)"
    settings: TranslationSettings
    title = "Character-level translation"
    summary = ("The source is a short English sentence; the target is its French translation, "
               "produced one token at a time until the end symbol: a character, as in the Keras "
               "example, or a word or subword (*Token level*).")
    generated = False
    target_align = "right"
    bucketed = True
    text_metrics = True

    def __init__(self, settings: TranslationSettings | None = None, corpus: Corpus | None = None):
        self.settings = settings or TranslationSettings()
        s = self.settings
        if corpus is not None and not isinstance(corpus, Corpus):
            raise InvalidInput("A translation task takes its sentence pairs as a Corpus.")
        self.corpus = corpus if corpus is not None else _builtin_corpus(s.corpus)
        pairs = [p for p in self.corpus.pairs if pair_length(p) <= s.max_length]
        self._length_cut = len(pairs) < len(self.corpus.pairs)
        pairs = pairs[: s.max_pairs]
        if len(pairs) < 10:
            verb = "is" if len(pairs) == 1 else "are"
            raise InvalidInput(f"Only {plural(len(pairs), 'pair')} {verb} at most "
                               f"{plural(s.max_length, 'character')} long; at least 10 are needed.")
        self.pairs = tuple(pairs)
        self.unit = LEVEL_UNITS[s.level]
        if s.level != "char":
            self.title = f"{self.unit.capitalize()}-level translation"
        self.source_vocab, self.target_vocab = self._vocabularies()
        split_src, split_tgt = self.source_vocab.split, self.target_vocab.split
        self.source_len = max(len(split_src(a)) for a, _ in pairs)
        self.target_len = max(len(split_tgt(b)) for _, b in pairs) + 1
        order = np.random.default_rng(0).permutation(len(pairs))
        n_valid = held_out_count(len(pairs), s.holdout)
        self._valid_idx = np.sort(order[:n_valid])
        self._train_idx = np.sort(order[n_valid:])
        self._lookup = dict(pairs)
        self._trained = {self.pairs[i][0] for i in self._train_idx}

    def _vocabularies(self) -> tuple[Vocabulary, Vocabulary]:
        """Characters as in the Keras example, or words or subwords learned from the pairs."""
        s, sources, targets = self.settings, [a for a, _ in self.pairs], [b for _, b in self.pairs]
        if s.level != "char":
            return (piece_vocabulary(sources, s.level, s.subwords, ends=False),
                    piece_vocabulary(targets, s.level, s.subwords, ends=True))
        src_chars = sorted({c for a in sources for c in a})
        tgt_chars = sorted({c for b in targets for c in b})
        return (Vocabulary((PAD,) + tuple(src_chars), pad=0),
                Vocabulary((PAD, START, END) + tuple(tgt_chars), pad=0, start=1, end=2))

    @property
    def evaluates_on_training_pairs(self) -> bool:
        return len(self._valid_idx) == 0

    def _split_index(self, split: str) -> np.ndarray:
        return self._valid_idx if split == "valid" and len(self._valid_idx) else self._train_idx

    def split_pairs(self, split: str) -> list[tuple[str, str]]:
        return [self.pairs[i] for i in self._split_index(split)]

    def encode_pairs(self, pairs) -> Pairs:
        src = self.encode_sources([a for a, _ in pairs])
        return Pairs(src, self.encode_targets([b for _, b in pairs]))

    @cached_property
    def _encoded(self) -> Pairs:
        """Every pair's ids, encoded on first use: a draw then only picks rows. (Encoding a
        word or subword draw of 3,200 pairs took 130-200 ms, about 5% of the time training on
        them; picking them takes under 1 ms. The ids of 20,000 pairs take at most 13 MB.)"""
        return self.encode_pairs(self.pairs)

    def _rows(self, idx) -> Pairs:
        return Pairs(self._encoded.source[idx], self._encoded.target[idx])

    def sample(self, rng, n, split="train") -> Pairs:
        pool = self._split_index(split)
        picks = rng.integers(0, len(pool), size=n)
        return self._rows(pool[picks])

    def held_out(self, n: int, seed: int) -> Pairs:
        return self._rows(self._split_index("valid")[:n])

    def map_inputs(self, n: int, seed: int) -> Pairs:
        order = np.random.default_rng(seed).permutation(len(self.pairs))[:n]
        return self._rows(np.sort(order))

    def _pairs_text(self) -> str:
        return plural(len(self.pairs), "pair")

    def _limit_origin(self, side: str) -> str:
        which = "English sentence" if side == "input" else "translation"
        most = plural(self.settings.max_length, "character")
        cut = f", which Longest sentence keeps to {most} or fewer" if self._length_cut else ""
        return f"the longest {which} among its {self._pairs_text()}{cut}"

    def _alphabet_note(self, side: str) -> str:
        vocab = self.source_vocab if side == "input" else self.target_vocab
        which = "English sentences" if side == "input" else "translations"
        if self.settings.level == "word":
            return f"The {which} of its {self._pairs_text()} use {vocab.describe_allowed()}."
        return (f"The {which} of its {self._pairs_text()} use only these characters: "
                f"{vocab.describe_allowed()}.")

    def _unknown_message(self, bad: list[str], side: str) -> str:
        vocab = self.source_vocab if side == "input" else self.target_vocab
        if self.settings.level == "word":
            words = "words" if len(bad) > 1 else "word"
            bad = [b.replace("▁", "") or b for b in bad]
            known = vocab.size - len(vocab.specials)
            return (f"The model {'never writes' if side == 'output' else 'has never seen'} "
                    f"the {words} {shown_tokens(bad)}: a word-level "
                    f"model knows only the {known:,} words of its {self._pairs_text()}. "
                    "At the subword level it could spell new words from known pieces.")
        known = getattr(vocab, "alphabet", None) or set(vocab.tokens)
        gaps = []
        for name, group in (("capital letters", string.ascii_uppercase),
                             ("small letters", string.ascii_lowercase), ("digits", string.digits)):
            if any(c in group for c in bad):
                missing = [c for c in group if c not in known]
                gaps.append(f"no {name} at all" if len(missing) == len(group)
                            else f"{name} missing: {' '.join(missing)}")
        gap = f" ({'; '.join(gaps)})" if gaps else ""
        if side == "output":
            return (f"The model never writes {and_list([repr(c) for c in bad[:12]])}. "
                    f"{self._alphabet_note(side)[:-1]}{gap}.")
        note = self._alphabet_note(side)
        return f"The model has never seen {shown_tokens(bad)}: {note[0].lower()}{note[1:-1]}{gap}."

    def _too_long_message(self, count: int, limit: int, side: str) -> str:
        if side == "output":
            return super()._too_long_message(count, limit, side)
        return (f"This model learned sentences of at most {plural(limit, self.unit)} "
                f"({self._limit_origin('input')}); this one has {count}.")

    def validate(self, text: str) -> str:
        """The sentence stripped, runs of whitespace inside made one space, or InvalidInput."""
        check_length(text)
        if isinstance(text, str):
            text = re.sub(r"\s+", " ", text.strip())
        return self.check_common(text)

    def answer(self, text: str) -> str | None:
        return self._lookup.get(self.validate(text))

    def outside(self, text: str) -> str:
        """'' for a sentence the model trained on; a note for a held-out pair or a new sentence."""
        text = self.validate(text)
        if text in self._trained:
            return ""
        if text in self._lookup:
            return (f"This sentence is one of the {plural(len(self._valid_idx), 'held-out pair')}, "
                    f"never trained on: the model has to generalise to it, so expect mistakes.")
        return (f"This sentence is not one of the {plural(len(self._train_idx), 'pair')} the model "
                f"learned from: it has to generalise, so expect mistakes.")

    def possible_inputs(self) -> int:
        """The number of training pairs."""
        return len(self._train_idx)

    def example_inputs(self) -> list[str]:
        return [a for a, _ in self.pairs[:3]]

    def property_of(self, source):
        lengths = (source != self.source_vocab.pad).sum(axis=1)
        return "input length", lengths.astype(float)

    def describe(self) -> dict:
        return {**super().describe(), "pairs": len(self.pairs)}
