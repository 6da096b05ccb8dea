"""What every task provides: vocabularies, sizes, fresh samples and input validation."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields

import numpy as np

from ..errors import InvalidInput
from ..vocab import Vocabulary, plural, shown_tokens


MAX_INPUT_CHARS = 2000


def check_length(text) -> None:
    """Refuse typed input far longer than any task takes, before any work is done on it."""
    if isinstance(text, str) and len(text) > MAX_INPUT_CHARS:
        raise InvalidInput(f"The input has {plural(len(text), 'character')}; inputs can have "
                           f"at most {MAX_INPUT_CHARS:,}.")


@dataclass(frozen=True)
class Pairs:
    """A batch of encoded examples: `source` (n, S) and `target` (n, T) int32 ids."""

    source: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return len(self.source)


@dataclass(frozen=True)
class Example:
    """One example as text, for tables and the inspector."""

    source: str
    target: str


class Task(ABC):
    """A sequence-to-sequence problem.

    Subclasses set `name`, `label`, `title`, `summary`, `settings`, the two vocabularies and the
    lengths, and implement `sample`, `validate` and `answer`. `outside` and
    `possible_inputs` say how a typed input and the task's inputs relate to what a model
    learned; messages say where each limit comes from through `_limit_origin` and
    `_alphabet_note`.
    """

    name: str
    label: str  # the task's short name in pickers ("Addition")
    title: str
    summary: str
    generated: bool = True
    source_align: str = "left"
    target_align: str = "left"
    unit: str = "character"
    # Trained in batches of similar lengths, each cut to its own longest sentence
    # (`feeding.Feeder`); its networks skip source padding (`layers.Layers.padding`).
    bucketed: bool = False
    # Scored as text too: chrF and BLEU of the outputs (`evaluation.Evaluation`).
    text_metrics: bool = False

    settings: object
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    source_len: int
    target_len: int

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int, split: str = "train") -> Pairs:
        """`n` encoded examples. Generated tasks draw fresh ones; corpora draw from `split`."""

    @abstractmethod
    def validate(self, text: str) -> str:
        """The normalised input, or InvalidInput saying what is wrong and what is allowed."""

    @abstractmethod
    def answer(self, text: str) -> str | None:
        """The correct output for a valid input, where the task knows it."""

    def outside(self, text: str) -> str:
        """For a valid input: '' when it is like the inputs the model learned from, else one
        or two plain sentences saying how it differs (a teaching note, not an error).

        Raises InvalidInput, as `validate` does, for an invalid input.
        """
        self.validate(text)
        return ""

    def expected_fits(self, text: str) -> bool:
        """False when the task knows the right output for this valid input and the model
        cannot write it (too long, or with symbols it never outputs); True otherwise."""
        expected = self.answer(text)
        if expected is None:
            return True
        try:
            self.encode_targets([expected])
        except InvalidInput:
            return False
        return True

    def possible_inputs(self) -> int | None:
        """How many distinct inputs the task can give the model in training (None: unknown)."""
        return None

    def held_out(self, n: int, seed: int) -> Pairs:
        """Examples to score on: fresh ones for generated tasks, the held-out split for corpora."""
        return self.sample(np.random.default_rng(seed), n, "valid")

    def map_inputs(self, n: int, seed: int) -> Pairs:
        """Inputs for the map of final states: fresh samples, or a corpus' own pairs."""
        return self.held_out(n, seed)

    def example_inputs(self) -> list[str]:
        """A few inputs to show as placeholders and in help text."""
        rng = np.random.default_rng(7)
        return [self.source_text(row) for row in self.sample(rng, 3, "valid").source]

    def property_of(self, source: np.ndarray) -> tuple[str, np.ndarray]:
        """A per-input number to colour the state projection by, and its name."""
        return "first token id", source[:, -1].astype(float)

    # ---- messages: what is allowed and where the limit comes from ----------------------
    def _limit_origin(self, side: str) -> str:
        """Why inputs ('input') or outputs ('output') can be no longer, as a phrase."""
        return f"the longest {'input' if side == 'input' else 'answer'} of its task"

    def _alphabet_note(self, side: str) -> str:
        """What an input ('input') or output ('output') may contain, and why, as a sentence."""
        vocab = self.source_vocab if side == "input" else self.target_vocab
        return f"Allowed: {vocab.describe_allowed()}."

    def _unknown_message(self, bad: list[str], side: str) -> str:
        return (f"Unknown {self.unit}{'s' if len(bad) > 1 else ''}: {shown_tokens(bad)}. "
                f"{self._alphabet_note(side)}")

    def _too_long_message(self, count: int, limit: int, side: str) -> str:
        if side == "input":
            return (f"The input has {plural(count, self.unit)}, but this model reads at most "
                    f"{limit} ({self._limit_origin('input')}).")
        return (f"The expected output has {plural(count, self.unit)}, but this model writes at "
                f"most {plural(limit, self.unit)} ({self._limit_origin('output')}).")

    # ---- shared behaviour -------------------------------------------------------------
    def check_common(self, text: str, max_len: int | None = None) -> str:
        check_length(text)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"The input is empty. Type something like: {self.example_inputs()[0]}")
        bad = self.source_vocab.unknown(text)
        if bad:
            raise InvalidInput(self._unknown_message(bad, "input"))
        limit = self.source_len if max_len is None else max_len
        count = len(self.source_vocab.split(text))
        if count > limit:
            raise InvalidInput(self._too_long_message(count, limit, "input"))
        return text

    def encode_inputs(self, texts: list[str]) -> np.ndarray:
        """Validate and encode typed inputs into an (n, S) id array."""
        return self.encode_sources([self.validate(t) for t in texts])

    def encode_sources(self, texts: list[str]) -> np.ndarray:
        """Encode already valid inputs into an (n, S) id array, padded on the left."""
        if self.source_vocab.separator:
            rows = [self.source_vocab.encode(t) for t in texts]
            out = np.full((len(rows), self.source_len), self.source_vocab.pad, dtype=np.int32)
            for i, row in enumerate(rows):
                out[i, self.source_len - len(row):] = row
            return out
        return self.source_vocab.encode_strings(texts, self.source_len, self.source_align)

    def encode_targets(self, texts: list[str]) -> np.ndarray:
        """Encode expected outputs as target ids (n, T), with the end symbol where the task has one."""
        vocab = self.target_vocab
        room = self.target_len - (vocab.end is not None)
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput("The expected output is empty.")
            bad = vocab.unknown(text)
            if bad:
                raise InvalidInput(self._unknown_message(bad, "output"))
            count = len(vocab.split(text))
            if count > room:
                raise InvalidInput(self._too_long_message(count, room, "output"))
        if vocab.separator:
            ends = [] if vocab.end is None else [vocab.end]
            rows = [[vocab.index[t] for t in vocab.split(text)] + ends for text in texts]
            out = np.full((len(rows), self.target_len), vocab.pad, dtype=np.int32)
            for i, row in enumerate(rows):
                if self.target_align == "right":
                    out[i, :len(row)] = row
                else:
                    out[i, self.target_len - len(row):] = row
            return out
        ids = vocab.encode_strings(texts, self.target_len, self.target_align)
        if vocab.end is not None:
            ids[np.arange(len(texts)), [len(t) for t in texts]] = vocab.end
        return ids

    def source_text(self, ids) -> str:
        return self.source_vocab.decode(ids).strip() if not self.source_vocab.separator \
            else self.source_vocab.decode(ids)

    def target_text(self, ids) -> str:
        text = self.target_vocab.decode(ids)
        return text if self.target_vocab.separator else text.strip()

    def examples(self, pairs: Pairs) -> list[Example]:
        return [Example(self.source_text(s), self.target_text(t))
                for s, t in zip(pairs.source, pairs.target)]

    def describe(self) -> dict:
        """Settings as a plain dict, for saving and for the UI."""
        return {f.name: getattr(self.settings, f.name) for f in fields(self.settings)}

    def target_mask(self, target: np.ndarray) -> np.ndarray:
        """1.0 where a target position counts towards loss and accuracy.

        For tasks with an end symbol, positions after it are padding and do not count.
        """
        end = self.target_vocab.end
        if end is None:
            return np.ones(target.shape, dtype=np.float32)
        is_end = target == end
        after_end = np.cumsum(is_end, axis=1) - is_end
        return (after_end == 0).astype(np.float32)
