"""Seed 003's arithmetic task: '10+6' -> '16', numbers written as characters."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput
from ..vocab import Vocabulary
from .base import Pairs, Task
from .limits import check_bool, check_int, check_text

DIGITS = "0123456789"
ALLOWED_OPERATORS = "+-*"


@dataclass(frozen=True)
class AdditionSettings:
    """`n_terms` numbers in 1..`largest` joined by operators drawn from `operators`.

    With `variable_terms`, each example has between 2 and `n_terms` terms.
    """

    n_terms: int = 3
    largest: int = 10
    operators: str = "+"
    variable_terms: bool = False

    def __post_init__(self):
        check_int("Number of terms", self.n_terms, 1, 8)
        check_int("Largest number", self.largest, 1, 99_999)
        ops = check_text("Operators", self.operators, len(ALLOWED_OPERATORS))
        check_bool("Variable number of terms", self.variable_terms)
        if not ops or any(o not in ALLOWED_OPERATORS for o in ops) or len(set(ops)) != len(ops):
            raise InvalidInput(f"Operators must be a non-empty subset of '{ALLOWED_OPERATORS}'; "
                               f"got {ops!r}.")
        if self.variable_terms and self.n_terms < 2:
            raise InvalidInput("A variable number of terms needs at least 2 terms.")
        if "*" in ops and len(str(self.largest ** self.n_terms)) > 24:
            raise InvalidInput("With '*', largest ** terms must stay below 24 digits; "
                               "use fewer terms or smaller numbers.")


def input_length(s: AdditionSettings) -> int:
    """Seed 003: n * ceil(log10(largest + 1)) + n - 1 characters."""
    return int(s.n_terms * math.ceil(math.log10(s.largest + 1)) + s.n_terms - 1)


def output_length(s: AdditionSettings) -> int:
    """Seed 003's ceil(log10(n * (largest + 1))) for '+'; exact bounds for '-' and '*'."""
    n, big = s.n_terms, s.largest
    if s.operators == "+":
        return int(math.ceil(math.log10(n * (big + 1))))
    high = max(n * big, big ** n if "*" in s.operators else 0)
    low = 0
    if "-" in s.operators:
        rest = max((n - 1) * big, big ** (n - 1) if "*" in s.operators else 0)
        low = 1 - rest
    return max(len(str(high)), len(str(low)))


def evaluate(terms: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Values of the expressions, with * binding tighter than + and -, vectorised over rows."""
    total = np.zeros(len(terms), dtype=object)
    current = terms[:, 0].astype(object)
    for j in range(ops.shape[1]):
        nxt = terms[:, j + 1].astype(object)
        op = ops[:, j]
        is_mul = op == "*"
        closing = ~is_mul & (op != "")
        total = np.where(closing, total + current, total)
        current = np.where(is_mul, current * nxt,
                           np.where(op == "-", -nxt, np.where(op == "+", nxt, current)))
    return total + current


class AdditionTask(Task):
    name = "addition"
    title = "Addition (and - / *) as characters"
    summary = ("The source is an expression such as ' 3+10', left-padded with spaces; the "
               "target is its value as characters ('13'). Seed 003: 3 terms, each 1..10.")

    def __init__(self, settings: AdditionSettings | None = None):
        self.settings = settings or AdditionSettings()
        s = self.settings
        alphabet = tuple(DIGITS + "".join(o for o in ALLOWED_OPERATORS if o in s.operators) + " ")
        self.source_vocab = Vocabulary(alphabet, pad=alphabet.index(" "))
        self.target_vocab = self.source_vocab
        self.source_len = input_length(s)
        self.target_len = output_length(s)

    def _draw(self, rng, n):
        s = self.settings
        terms = rng.integers(1, s.largest + 1, size=(n, s.n_terms))
        ops = np.array(list(s.operators))[rng.integers(0, len(s.operators), size=(n, s.n_terms - 1))]
        if s.variable_terms:
            counts = rng.integers(2, s.n_terms + 1, size=n)
            ops = np.where(np.arange(s.n_terms - 1)[None, :] < (counts - 1)[:, None], ops, "")
        return terms, ops.astype("<U1")

    @staticmethod
    def _expressions(terms, ops) -> np.ndarray:
        text = terms[:, 0].astype(str)
        for j in range(ops.shape[1]):
            piece = np.char.add(ops[:, j], terms[:, j + 1].astype(str))
            text = np.char.add(text, np.where(ops[:, j] == "", "", piece))
        return text

    def sample(self, rng, n, split="train") -> Pairs:
        terms, ops = self._draw(rng, n)
        values = evaluate(terms, ops).astype(str)
        source = self.source_vocab.encode_strings(self._expressions(terms, ops), self.source_len)
        target = self.target_vocab.encode_strings(values, self.target_len)
        return Pairs(source, target)

    def validate(self, text: str) -> str:
        text = self.check_common(text.strip() if isinstance(text, str) else text)
        s = self.settings
        ops = re.escape(s.operators)
        if not re.fullmatch(rf"[0-9]+([{ops}][0-9]+)*", text):
            raise InvalidInput(f"Write numbers joined by {' '.join(s.operators)} with no spaces, "
                               f"e.g. {self.example_inputs()[0]}")
        count = len(re.findall(r"[0-9]+", text))
        low = 2 if s.variable_terms else s.n_terms
        if not low <= count <= s.n_terms:
            allowed = f"{low} to {s.n_terms}" if low != s.n_terms else f"exactly {s.n_terms}"
            raise InvalidInput(f"The input has {count} numbers; this task takes {allowed}.")
        return text

    def answer(self, text: str) -> str:
        text = self.validate(text)
        numbers = [int(x) for x in re.findall(r"[0-9]+", text)]
        ops = re.findall(r"[^0-9]", text)
        terms = np.array([numbers], dtype=object)
        return str(evaluate(terms, np.array([ops], dtype="<U1").reshape(1, -1))[0])

    def property_of(self, source):
        texts = [self.source_text(row) for row in source]
        values = [int(self.answer(t)) for t in texts]
        return "value of the expression", np.array(values, dtype=float)
