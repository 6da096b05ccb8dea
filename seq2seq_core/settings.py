"""What each setting is, written once next to its dataclass field.

A field declared with `setting(default, "Label", low=..., high=..., help=...)` carries a
`Spec` in its metadata. Validation (`check_fields`), the Train page's widgets, share-link
checks, the sweep's inputs and the CLI's `--set` help all read it, so a setting's label,
range, step and help exist in one place.
"""
from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache

from .errors import InvalidInput
from .limits import check_bool, check_choice, check_float, check_int, check_text, check_texts

KEY = "spec"


@dataclass(frozen=True)
class Spec:
    """One setting: its label, bounds, widget step and help.

    `choices` are the allowed values of a choice, or with `many` the items a setting holds
    some of (operators, date formats); `names` say how each choice reads on screen.
    `unset` is the number a form shows for None (0) and `unset_means` what None does.
    Text settings use `high` as their longest length.
    """

    label: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple = ()
    many: bool = False
    names: Mapping = field(default_factory=dict)
    fmt: str | None = None
    unset: float | None = None
    unset_means: str = ""
    slider: bool = False

    @property
    def form_help(self) -> str:
        """The help a form shows: the setting's, and what its `unset` number means."""
        unset = f"{self.unset:g}: {self.unset_means}." if self.unset is not None else ""
        return "  \n".join(t for t in (self.help, unset) if t)

    def name_of(self, value) -> str:
        return self.names.get(value, str(value))

    @property
    def bounds(self) -> tuple:
        """(low, high) a form offers, including `unset` when it stands for None."""
        low = self.low if self.unset is None else min(self.low, self.unset)
        return low, self.high

    def range_words(self) -> str:
        """What values are allowed, for command-line help: "1 to 2,048; none: ..."."""
        if self.choices:
            listed = ", ".join(f"'{c}'" if "," in str(c) else str(c) for c in self.choices)
            return f"some of {listed}, separated by |" if self.many else f"one of {listed}"
        if self.low is None:
            return ""
        words = f"{self.low:g} to {self.high:g}" if isinstance(self.low, float) \
            else f"{self.low:,} to {self.high:,}"
        return words + (f"; none: {self.unset_means}" if self.unset is not None else "")


def setting(default, label: str, **spec) -> object:
    """A dataclass field with its Spec (see `Spec` for the keywords)."""
    return field(default=default, metadata={KEY: Spec(label, **spec)})


def same_as(cls, name: str, default) -> object:
    """A dataclass field that is the setting `name` of `cls` again (its Spec, another default)."""
    return field(default=default, metadata={KEY: spec(cls, name)})


def spec(cls, name: str) -> Spec:
    """The Spec of one field of a settings dataclass."""
    return specs(cls)[name]


@cache
def specs(cls) -> dict[str, Spec]:
    """Field name -> Spec, for every field of `cls` declared with `setting`."""
    return {f.name: f.metadata[KEY] for f in fields(cls) if KEY in f.metadata}


@cache
def kinds(cls) -> dict[str, tuple[type, bool]]:
    """Field name -> (base type, whether None is allowed), from the type hints."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
        if optional:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        out[name] = (typing.get_origin(hint) or hint, optional)
    return out


def check_fields(obj) -> None:
    """Check every field of a settings dataclass against its Spec; InvalidInput names the
    setting by its label and says what is allowed."""
    kind_of = kinds(type(obj))
    for name, sp in specs(type(obj)).items():
        value = getattr(obj, name)
        base, optional = kind_of[name]
        if value is None and optional:
            continue
        if sp.many:
            _check_many(obj, name, sp, value, base)
        elif base is bool:
            check_bool(sp.label, value)
        elif base is int:
            check_int(sp.label, value, sp.low, sp.high)
        elif base is float:
            check_float(sp.label, value, sp.low, sp.high)
        elif base is str and sp.choices:
            check_choice(sp.label, value, sp.choices)
        elif base is str and sp.high is not None:
            check_text(sp.label, value, int(sp.high))


def _check_many(obj, name: str, sp: Spec, value, base) -> None:
    """A non-empty selection of distinct `choices`, stored as the field's type: a tuple, or
    for a text field its characters joined ("+-"). One name alone, or a list of characters
    for a text field, is taken as that selection (as a link or the command line gives it)."""
    if base is tuple:
        items = check_texts(sp.label, (value,) if isinstance(value, str) else value,
                            len(sp.choices), 40)
        object.__setattr__(obj, name, items)
    else:
        if isinstance(value, (tuple, list)):
            value = "".join(check_texts(sp.label, value, len(sp.choices), 1))
            object.__setattr__(obj, name, value)
        items = tuple(check_text(sp.label, value, len(sp.choices)))
    unknown = [v for v in items if v not in sp.choices]
    if not items or unknown or len(set(items)) != len(items):
        shown = f"unknown {', '.join(map(repr, unknown))}" if unknown else (
            "nothing" if not items else "a repeat")
        allowed = ", ".join(f"'{c}'" for c in sp.choices)
        raise InvalidInput(f"{sp.label} must be one or more of {allowed}, each once; "
                           f"got {shown}.")


def help_lines(cls) -> list[str]:
    """One line per setting of `cls` for command-line help: name, label, range, help."""
    lines = []
    for name, sp in specs(cls).items():
        allowed = sp.range_words()
        lines.append(f"  {name}: {sp.label}" + (f" ({allowed})" if allowed else "")
                     + (f". {_plain(sp.help)}" if sp.help else ""))
    return lines


def _plain(text: str) -> str:
    """Help text without its Markdown emphasis and line breaks, for a terminal."""
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()


def parse_numbers(text: str, what: str, example: str = "4, 8, 12") -> tuple[int, ...]:
    """ "4, 8 12" -> (4, 8, 12): whole numbers as typed on a page or given on the command
    line; InvalidInput for anything else, naming `what`."""
    parts = [p for p in re.split(r"[,;\s]+", str(text or "")) if p]
    bad = [p for p in parts if not (p.isascii() and p.isdigit()) or len(p) > 12]
    if bad:
        raise InvalidInput(f"The {what} must be whole numbers separated by commas, e.g. "
                           f"{example} (not {bad[0][:20]!r}).")
    return tuple(int(p) for p in parts)
