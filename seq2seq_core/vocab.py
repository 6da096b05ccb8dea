"""Token vocabularies: the mapping between text and the integer ids a model sees."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import InvalidInput

PAD, START, END = "<pad>", "<start>", "<end>"
_SPECIAL_LABELS = {PAD: "⟨pad⟩", START: "⟨start⟩", END: "⟨end⟩", " ": "␣"}
PAD_LABEL, START_LABEL = _SPECIAL_LABELS[PAD], _SPECIAL_LABELS[START]
SPACE_LABEL = _SPECIAL_LABELS[" "]
PAD_MARK = "·"  # padding where a label must be one character wide: chart axes, heatmap rows


def short_label(label: str) -> str:
    """A token's label for a chart axis or heatmap row: padding as PAD_MARK."""
    return PAD_MARK if label == PAD_LABEL else label


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 number', '2 numbers', '1,000 pairs': a count with its noun in the right form."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def and_list(items, word: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (or 'a, b or c' with word='or')."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def shown_tokens(tokens, limit: int = 12) -> str:
    """Tokens quoted for a message, at most `limit` of them, long ones cut short."""
    out = ", ".join(repr(t if len(t) <= 12 else t[:11] + "…") for t in tokens[:limit])
    return out + (f" and {len(tokens) - limit} more" if len(tokens) > limit else "")


@dataclass(frozen=True)
class Vocabulary:
    """An ordered token list with its special ids.

    `separator` is "" for character vocabularies and " " for whitespace-separated tokens
    (the integer tasks). `start`/`end` are None where the task needs no such symbol.
    """

    tokens: tuple[str, ...]
    pad: int = 0
    start: int | None = None
    end: int | None = None
    separator: str = ""

    @property
    def size(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        return {tok: i for i, tok in enumerate(self.tokens)}

    @cached_property
    def specials(self) -> frozenset[int]:
        return frozenset(i for i in (self.pad, self.start, self.end) if i is not None)

    def label(self, token_id: int) -> str:
        """A readable label for one id, with special tokens and space made visible."""
        tok = self.tokens[int(token_id)]
        return _SPECIAL_LABELS.get(tok, tok)

    @property
    def pads_with_space(self) -> bool:
        """Whether padding is the space character, so it shows as SPACE_LABEL, not PAD_LABEL."""
        return not self.separator and self.tokens[self.pad] == " "

    def split(self, text: str) -> list[str]:
        return text.split() if self.separator else list(text)

    def join(self, tokens: list[str]) -> str:
        """The text of `tokens` (the inverse of `split`)."""
        return self.separator.join(tokens)

    def unknown(self, text: str) -> list[str]:
        """Tokens of `text` that are not in the vocabulary, each listed once, in order."""
        seen: dict[str, None] = {}
        for tok in self.split(text):
            if tok not in self.index or tok in (PAD, START, END):
                seen[tok] = None
        return list(seen)

    def describe_allowed(self) -> str:
        plain = [t for t in self.tokens if t not in (PAD, START, END)]
        return " ".join("space" if t == " " else t for t in plain)

    def check(self, text: str, allowed: str | None = None) -> None:
        """Raise InvalidInput naming every unknown token, then `allowed` (a sentence saying
        what is allowed and why) or the plain list of allowed tokens."""
        bad = self.unknown(text)
        if bad:
            kind = "token" if self.separator else "character"
            tail = allowed or f"Allowed: {self.describe_allowed()}."
            raise InvalidInput(f"Unknown {kind}{'s' if len(bad) > 1 else ''}: "
                               f"{shown_tokens(bad)}. {tail}")

    def encode(self, text: str) -> np.ndarray:
        self.check(text)
        return np.array([self.index[t] for t in self.split(text)], dtype=np.int32)

    def decode(self, ids, stop_at_end: bool = True) -> str:
        """Text of `ids`, stopping at the end symbol and dropping pad/start symbols."""
        out = []
        for i in np.asarray(ids).tolist():
            if stop_at_end and self.end is not None and i == self.end:
                break
            if i in self.specials and self.tokens[i] in (PAD, START, END):
                continue
            out.append(self.tokens[i])
        return self.separator.join(out)

    @cached_property
    def _codepoint_table(self) -> np.ndarray:
        """Codepoint -> id for single-character tokens; NUL maps to pad; -1 elsewhere."""
        singles = [t for t in self.tokens if len(t) == 1]
        top = max([ord(t) for t in singles] + [0]) + 1
        table = np.full(top, -1, dtype=np.int32)
        for tok in singles:
            table[ord(tok)] = self.index[tok]
        table[0] = self.pad
        return table

    def encode_strings(self, strings, length: int, align: str = "left") -> np.ndarray:
        """Vectorised encoding of many character strings into an (n, length) id array.

        `align="left"` pads on the left (content ends at the last step, which the encoder's
        final state sees last); "right" pads after the content. Strings must already be valid.
        """
        arr = np.asarray(strings, dtype=f"<U{length}")
        codes = arr.view(np.uint32).reshape(len(arr), length)
        if align == "left":
            shift = length - np.char.str_len(arr)
            cols = (np.arange(length)[None, :] - shift[:, None]) % length
            codes = np.take_along_axis(codes, cols, axis=1)
        table = self._codepoint_table
        ids = table[np.minimum(codes, table.size - 1)]
        ids = np.where(codes < table.size, ids, -1)
        if (ids < 0).any():
            raise InvalidInput("Some characters are not in the vocabulary.")
        return ids.astype(np.int32)
