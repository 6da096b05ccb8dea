"""Bounds checks for settings, so absurd sizes get a clear message instead of a crash."""
from __future__ import annotations

from ..errors import InvalidInput


def check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number between {low} and {high}; got {value!r}.")
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}; got {value}.")
    return value


def check_float(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a number between {low} and {high}; got {value!r}.")
    if not low <= float(value) <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}; got {value}.")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}.")
    return value
