"""Seed 001's integer task: echo or reverse part of a random integer sequence."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput
from ..vocab import END, PAD, Vocabulary, plural, shown_tokens
from .base import Pairs, Task, check_length
from ..settings import check_fields, setting

MODES = ("reverse", "echo", "reverse_all")


@dataclass(frozen=True)
class ReverseSettings:
    """`n_in` integers in 1..`cardinality`; the target is the first `n_out` of them.

    `cardinality` counts the values a source may hold; id 0 is reserved for start/padding,
    so the one-hot width is cardinality + 1 (seed 001 uses 50 -> width 51).
    """

    n_in: int = setting(6, "Input length (integers)", low=1, high=40, step=1)
    n_out: int = setting(3, "Output length", low=1, high=40, step=1,
                         help="How many integers the target has (reverse and echo).")
    cardinality: int = setting(50, "Cardinality (values 1..n)", low=2, high=500, step=1,
                               help="How many different integers a source may hold.")
    mode: str = setting("reverse", "Mode", choices=MODES,
                        help="reverse: first n reversed; echo: first n copied; reverse_all: "
                             "the whole input reversed.")

    def __post_init__(self):
        check_fields(self)
        if self.mode != "reverse_all" and self.n_out > self.n_in:
            raise InvalidInput(
                f"Output length ({self.n_out}) cannot exceed input length ({self.n_in})."
            )

    @property
    def out_len(self) -> int:
        return self.n_in if self.mode == "reverse_all" else self.n_out


def _in_range(part: str, cardinality: int) -> bool:
    """True for a plain ASCII whole number in 1..cardinality (never int() of huge or exotic digits)."""
    digits = part.lstrip("0")
    return (part.isascii() and part.isdigit() and len(digits) <= len(str(cardinality))
            and 1 <= int(digits or "0") <= cardinality)


class ReverseTask(Task):
    name = "reverse"
    label = "Reverse integers"
    settings: ReverseSettings
    title = "Reverse / echo integers"
    summary = ("The source is a sequence of random integers; the target is its first few "
               "integers reversed (or copied). The original example (seed 001) reverses the "
               "first 3 of 6 integers in 1..50.")

    unit = "integer"

    def __init__(self, settings: ReverseSettings | None = None):
        self.settings = settings or ReverseSettings()
        s = self.settings
        tokens = tuple(str(i) for i in range(s.cardinality + 1))
        self.source_vocab = Vocabulary(tokens, pad=0, start=0, separator=" ")
        self.target_vocab = self.source_vocab
        self.source_len = s.n_in
        self.target_len = s.out_len

    def _targets(self, source: np.ndarray) -> np.ndarray:
        head = source[:, : self.target_len]
        return head.copy() if self.settings.mode == "echo" else head[:, ::-1].copy()

    def sample(self, rng, n, split="train") -> Pairs:
        source = rng.integers(1, self.settings.cardinality + 1, size=(n, self.source_len),
                              dtype=np.int32)
        return Pairs(source, self._targets(source).astype(np.int32))

    def _limit_origin(self, side: str) -> str:
        if side == "input":
            return "Input length"
        if self.settings.mode == "reverse_all":
            return "reverse_all writes back all of its Input length"
        return "Output length"

    def _alphabet_note(self, side: str) -> str:
        return (f"This model knows the integers 1 to {self.settings.cardinality} (Cardinality); "
                f"0 is reserved for start/padding.")

    def _unknown_message(self, bad: list[str], side: str) -> str:
        return (f"Not an integer between 1 and {self.settings.cardinality}: {shown_tokens(bad)}. "
                f"{self._alphabet_note(side)}")

    def validate(self, text: str) -> str:
        """The integers joined by single spaces ('1, 2,  3' -> '1 2 3'), or InvalidInput.

        Spaces, tabs, commas and semicolons all separate integers; leading zeros are dropped.
        """
        s = self.settings
        parts = self._integers(text, "input", f"{plural(s.n_in, 'integer')}",
                               ", separated by spaces,")
        if len(parts) != s.n_in:
            raise InvalidInput(f"The input has {plural(len(parts), 'integer')}; this task takes "
                               f"exactly {plural(s.n_in, 'integer')} (Input length).")
        return " ".join(parts)

    def _integers(self, text, what: str, how_many: str, how: str = "") -> list[str]:
        """The integers of `text` (the input, or an expected output) without leading zeros,
        or InvalidInput: empty (saying to type `how_many` integers), or one out of range."""
        s = self.settings
        check_length(text)
        parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p] \
            if isinstance(text, str) else []
        if not parts:
            raise InvalidInput(f"The {what} is empty. Type {how_many} between 1 and "
                               f"{s.cardinality}{how} e.g. {self.example_inputs()[0]}")
        bad = [p for p in parts if not _in_range(p, s.cardinality)]
        if bad:
            raise InvalidInput(f"Not an integer between 1 and {s.cardinality}: "
                               f"{shown_tokens(bad, 8)}. {self._alphabet_note('input')}")
        return [str(int(p)) for p in parts]

    def outside(self, text: str) -> str:
        """Always '' for a valid input: validation admits only the n_in integers in
        1..cardinality that training draws from."""
        self.validate(text)
        return ""

    def possible_inputs(self) -> int:
        """cardinality ** n_in."""
        return self.settings.cardinality ** self.settings.n_in

    def answer(self, text: str) -> str:
        ids = np.array([[int(p) for p in self.validate(text).split()]], dtype=np.int32)
        return self.target_vocab.decode(self._targets(ids)[0])

    def property_of(self, source):
        return "first integer", source[:, 0].astype(float)


class ReverseByLength(ReverseTask):
    """Reverse a whole input of 1..`longest` integers, for training short and testing long.

    The source is left-padded; the target is the input reversed, then the end symbol, then
    padding, so a model learns where to stop. Training (and the check while training) draws
    lengths 1..`trained` only; `sample_at` draws one length of `points` exactly. The network
    fits `longest`, so longer inputs can be read and written. Its settings record the
    network's size (reverse_all of `longest`), which is what the run history rebuilds.
    """

    def __init__(self, trained: int, longest: int, cardinality: int):
        super().__init__(ReverseSettings(n_in=longest, n_out=longest, cardinality=cardinality,
                                         mode="reverse_all"))
        if not 1 <= trained <= longest:
            raise InvalidInput(f"The longest trained length ({trained}) must be between 1 and "
                               f"the longest tested ({longest}).")
        self.trained_up_to = trained
        self.points = tuple(range(1, longest + 1))
        self.trained = self.points[:trained]
        tokens = (PAD,) + tuple(str(i) for i in range(1, cardinality + 1))
        self.source_vocab = Vocabulary(tokens, pad=0, start=0, separator=" ")
        self.target_vocab = Vocabulary(tokens + (END,), pad=0, start=0, end=len(tokens),
                                       separator=" ")
        self.target_len = longest + 1

    def _source(self, rng, lengths: np.ndarray) -> np.ndarray:
        shape = (len(lengths), self.source_len)
        values = rng.integers(1, self.settings.cardinality + 1, size=shape, dtype=np.int32)
        content = np.arange(self.source_len)[None, :] >= self.source_len - lengths[:, None]
        return np.where(content, values, 0).astype(np.int32)

    def _targets(self, source: np.ndarray) -> np.ndarray:
        lengths = (source != 0).sum(axis=1)
        target = np.zeros((len(source), self.target_len), dtype=np.int32)
        target[:, :self.source_len] = source[:, ::-1]
        target[np.arange(len(source)), lengths] = self.target_vocab.end
        return target

    def sample(self, rng, n, split="train") -> Pairs:
        source = self._source(rng, rng.integers(1, self.trained_up_to + 1, size=n))
        return Pairs(source, self._targets(source))

    def sample_at(self, rng, n: int, length: int) -> Pairs:
        """`n` examples of exactly `length` integers."""
        source = self._source(rng, np.full(n, length))
        return Pairs(source, self._targets(source))

    def _integers(self, text, what: str, how_many: str = "", how: str = "") -> list[str]:
        """The integers of `text`, at most the longest tested length of them."""
        n = self.settings.n_in
        parts = super()._integers(text, what, how_many or f"1 to {plural(n, 'integer')}",
                                  how or ",")
        if len(parts) > n:
            raise InvalidInput(f"The {what} has {plural(len(parts), 'integer')}; this model "
                               f"handles at most {n}.")
        return parts

    def validate(self, text: str) -> str:
        """The integers joined by single spaces: 1 to the longest tested length of them."""
        return " ".join(self._integers(text, "input"))

    def answer(self, text: str) -> str:
        return " ".join(reversed(self.validate(text).split()))

    def encode_targets(self, texts: list[str]) -> np.ndarray:
        """Expected outputs as target ids: the integers, the end symbol, then padding."""
        rows = [[int(p) for p in self._integers(t, "expected output")] for t in texts]
        out = np.zeros((len(rows), self.target_len), dtype=np.int32)
        for i, row in enumerate(rows):
            out[i, :len(row)] = row
            out[i, len(row)] = self.target_vocab.end
        return out

    def outside(self, text: str) -> str:
        count = len(self.validate(text).split())
        if count <= self.trained_up_to:
            return ""
        return (f"The model trained on inputs of at most {plural(self.trained_up_to, 'integer')}; "
                f"this one has {count}, a length it never saw.")

    def possible_inputs(self) -> int:
        return sum(self.settings.cardinality ** n for n in self.trained)

    def property_of(self, source):
        return "input length", (source != 0).sum(axis=1).astype(float)
