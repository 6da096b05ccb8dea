"""Bounds and type checks for settings, so absurd or mistyped values get a clear message
instead of a crash deep inside NumPy or Keras."""
from __future__ import annotations

import math

from .errors import InvalidInput
from .vocab import plural


def check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number between {low} and {high}; got {_shown(value)}.")
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}; got {_shown(value)}.")
    return value


def bound(x) -> str:
    """A range's end as a message shows it: 1024, 0.5, 86400, 1e-06."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_float(name: str, value, low: float, high: float) -> float:
    between = f"between {bound(low)} and {bound(high)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a number {between}; got {_shown(value)}.")
    if isinstance(value, int) and abs(value) > 10**300:
        raise InvalidInput(f"{name} must be {between}; got a number that large.")
    if not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise InvalidInput(f"{name} must be {between}; got {_shown(value)}.")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(map(str, choices))}; got {_shown(value)}.")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false; got {_shown(value)}.")
    return value


def check_text(name: str, value, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text; got {_shown(value)}.")
    if len(value) > max_chars:
        raise InvalidInput(f"{name} can have at most {plural(max_chars, 'character')}; "
                           f"got {len(value):,}.")
    return value


def check_texts(name: str, value, max_items: int, max_chars: int) -> tuple[str, ...]:
    """A tuple (or list) of short strings, returned as a tuple."""
    if isinstance(value, str) or not isinstance(value, (tuple, list)):
        raise InvalidInput(f"{name} must be a list of names; got {_shown(value)}.")
    if len(value) > max_items:
        raise InvalidInput(f"{name} can have at most {plural(max_items, 'entry', 'entries')}; "
                           f"got {len(value):,}.")
    return tuple(check_text(name, v, max_chars) for v in value)


def _shown(value, limit: int = 60) -> str:
    """A short repr of a value for a message: huge or odd values never flood the screen."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**60:
        return "a number with more than 60 digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ still gets a message
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
