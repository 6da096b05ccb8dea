"""Seed 003's arithmetic task: '10+6' -> '16', numbers written as characters."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput
from ..vocab import Vocabulary, and_list, plural
from .base import Pairs, Task, check_length
from ..settings import check_fields, setting

DIGITS = "0123456789"
ALLOWED_OPERATORS = "+-*"


@dataclass(frozen=True)
class AdditionSettings:
    """`n_terms` numbers in 1..`largest` joined by operators drawn from `operators`.

    With `variable_terms`, each example has between 2 and `n_terms` terms.
    """

    n_terms: int = setting(3, "Number of terms", low=1, high=8, step=1)
    largest: int = setting(10, "Largest number", low=1, high=99_999, step=1)
    operators: str = setting("+", "Operators", choices=tuple(ALLOWED_OPERATORS), many=True,
                             help="Each operator between two numbers is drawn from these.")
    variable_terms: bool = setting(False, "Vary the terms",
                                   help="Each example has between 2 and *Number of terms* "
                                        "numbers.")

    def __post_init__(self):
        check_fields(self)
        ops = self.operators
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


OPERATION_NAMES = {"+": "Addition", "-": "Subtraction", "*": "Multiplication"}


def title_for(operators: str) -> str:
    """'Addition as characters' for '+', 'Arithmetic (+, - and *) as characters' for '+-*'."""
    ops = [o for o in ALLOWED_OPERATORS if o in operators]
    if len(ops) == 1:
        return f"{OPERATION_NAMES[ops[0]]} as characters"
    return f"Arithmetic ({and_list(ops)}) as characters"


class AdditionTask(Task):
    name = "addition"
    label = "Addition"
    settings: AdditionSettings
    title = title_for(AdditionSettings.operators)
    summary = ("The source is an expression such as ' 3+10', left-padded with spaces; the "
               "target is its value as characters ('13'). The original example (seed 003) "
               "uses 3 terms, each 1..10.")

    def __init__(self, settings: AdditionSettings | None = None):
        self.settings = settings or AdditionSettings()
        s = self.settings
        alphabet = tuple(DIGITS + "".join(o for o in ALLOWED_OPERATORS if o in s.operators) + " ")
        self.source_vocab = Vocabulary(alphabet, pad=alphabet.index(" "))
        self.target_vocab = self.source_vocab
        self.source_len = input_length(s)
        self.target_len = output_length(s)
        self.title = title_for(s.operators)

    def _draw(self, rng, n, counts: range | None = None):
        """Terms and operators of `n` expressions; each has a number of terms drawn from
        `counts` (default: 2..n_terms with variable terms, else n_terms)."""
        s = self.settings
        terms = rng.integers(1, s.largest + 1, size=(n, s.n_terms))
        ops = np.array(list(s.operators))[rng.integers(0, len(s.operators), size=(n, s.n_terms - 1))]
        if counts is None and s.variable_terms:
            counts = range(2, s.n_terms + 1)
        if counts is not None:
            drawn = rng.integers(counts.start, counts.stop, size=n)
            ops = np.where(np.arange(s.n_terms - 1)[None, :] < (drawn - 1)[:, None], ops, "")
        return terms, ops.astype("<U1")

    @staticmethod
    def _expressions(terms, ops) -> np.ndarray:
        text = terms[:, 0].astype(str)
        for j in range(ops.shape[1]):
            piece = np.char.add(ops[:, j], terms[:, j + 1].astype(str))
            text = np.char.add(text, np.where(ops[:, j] == "", "", piece))
        return text

    def sample(self, rng, n, split="train") -> Pairs:
        return self._sample(rng, n)

    def _sample(self, rng, n, counts: range | None = None) -> Pairs:
        terms, ops = self._draw(rng, n, counts)
        values = evaluate(terms, ops).astype(str)
        source = self.source_vocab.encode_strings(self._expressions(terms, ops), self.source_len)
        target = self.target_vocab.encode_strings(values, self.target_len)
        return Pairs(source, target)

    def _operators(self) -> list[str]:
        return [o for o in ALLOWED_OPERATORS if o in self.settings.operators]

    def _term_counts(self) -> range:
        s = self.settings
        return range(2 if s.variable_terms else s.n_terms, s.n_terms + 1)

    def _limit_origin(self, side: str) -> str:
        s = self.settings
        if side == "output":
            return "the longest answer of its task, set by Number of terms and Largest number"
        how_many = plural(s.n_terms, "number")
        how_many = f"up to {how_many}" if s.variable_terms else how_many
        return (f"the longest expression its Number of terms and Largest number allow: "
                f"{how_many} of at most {plural(len(str(s.largest)), 'digit')}, joined "
                f"by {plural(s.n_terms - 1, 'operator')}")

    def _alphabet_note(self, side: str) -> str:
        if side == "output":
            signs = " and -" if "-" in self.settings.operators else ""
            return f"Answers here are written with the digits 0-9{signs} only."
        return (f"Inputs here use only {and_list(['the digits 0-9'] + self._operators())} "
                f"(the Operators chosen for this task).")

    def validate(self, text: str) -> str:
        """The expression without whitespace ('3 + 4 + 5' -> '3+4+5'), or InvalidInput."""
        check_length(text)
        joined_by = and_list(self._operators(), "or")
        if isinstance(text, str):
            split = re.search(r"[0-9]\s+[0-9]", text)
            if split:
                raise InvalidInput(f"There is a space inside a number ({split.group()!r}): write "
                                   f"each number without spaces, joined by {joined_by}, "
                                   f"e.g. {self.example_inputs()[0]}")
            text = re.sub(r"\s+", "", text)
        text = self.check_common(text)
        s = self.settings
        ops = re.escape(s.operators)
        if not re.fullmatch(rf"[0-9]+([{ops}][0-9]+)*", text):
            raise InvalidInput(f"Write numbers joined by {joined_by}, one operator "
                               f"between each two numbers, e.g. {self.example_inputs()[0]}")
        count = len(re.findall(r"[0-9]+", text))
        counts = self._term_counts()
        if count not in counts:
            allowed = (f"{counts.start} to {plural(s.n_terms, 'number')} (Number of terms, "
                       f"with a variable number of terms)" if len(counts) > 1
                       else f"exactly {plural(s.n_terms, 'number')} (Number of terms)")
            raise InvalidInput(f"The input has {plural(count, 'number')}; this task takes "
                               f"{allowed}.")
        return text

    def outside(self, text: str) -> str:
        """'' for an expression like those the model learned; else what is new about it.

        E.g. largest 10: '11+1+1' -> 'The model never saw numbers above 10 (it learned
        numbers from 1 to 10), so its output here is a guess.'
        """
        text = self.validate(text)
        s = self.settings
        pieces = re.findall(r"[0-9]+", text)
        new = []
        if any(int(p) > s.largest for p in pieces):
            new.append(f"numbers above {s.largest}")
        if any(int(p) == 0 for p in pieces):
            new.append("0")
        padded = [p for p in pieces if len(p) > 1 and p.startswith("0") and int(p)]
        if padded:
            new.append(f"numbers written with leading zeros, like {padded[0]}")
        notes = []
        if new:
            learned = (f"numbers from 1 to {s.largest}" if s.largest > 1 else "only the number 1")
            notes.append(f"The model never saw {and_list(new, 'or')} (it learned "
                         f"{learned}), so its output here is a guess.")
        expected = self.answer(text)
        if len(expected) > self.target_len:
            notes.append(f"The right answer, {expected}, has {plural(len(expected), 'character')}, "
                         f"but this model writes at most {self.target_len}.")
        return " ".join(notes)

    def possible_inputs(self) -> int:
        """largest ** k * len(operators) ** (k - 1), summed over the term counts k."""
        s = self.settings
        return sum(s.largest ** k * len(s.operators) ** (k - 1) for k in self._term_counts())

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


class AdditionByTerms(AdditionTask):
    """Additions of 2..`longest` terms, for training short and testing long.

    Training (and the check while training) draws 2..`trained` terms; `sample_at` draws
    one count of `points` exactly. The source and target lengths fit `longest` terms, so
    longer expressions can be read and their sums written. Its settings are those of a
    variable number of terms up to `longest`, the network's size.
    """

    def __init__(self, trained: int, longest: int, largest: int):
        super().__init__(AdditionSettings(n_terms=longest, largest=largest, variable_terms=True))
        if not 2 <= trained <= longest:
            raise InvalidInput(f"The most terms trained ({trained}) must be between 2 and the "
                               f"most tested ({longest}).")
        self.trained_up_to = trained
        self.points = tuple(range(2, longest + 1))
        self.trained = self.points[:trained - 1]

    def sample(self, rng, n, split="train") -> Pairs:
        return self._sample(rng, n, range(2, self.trained_up_to + 1))

    def sample_at(self, rng, n: int, terms: int) -> Pairs:
        """`n` expressions of exactly `terms` terms."""
        return self._sample(rng, n, range(terms, terms + 1))

    def outside(self, text: str) -> str:
        count = len(re.findall(r"[0-9]+", self.validate(text)))
        note = super().outside(text)
        if count > self.trained_up_to:
            note = (f"The model trained on at most {plural(self.trained_up_to, 'term')}; this "
                    f"expression has {count}, a length it never saw. {note}").strip()
        return note

    def possible_inputs(self) -> int:
        return sum(self.settings.largest ** k for k in self.trained)
