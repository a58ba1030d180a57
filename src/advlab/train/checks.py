"""Checks of training-method options: clear ValueError/TypeError naming what was expected and what came."""

from __future__ import annotations

import math
from numbers import Real


def check_eps(value: object, what: str, *, positive: bool = False) -> float:
    """A finite real number ≥ 0 (or > 0 with ``positive``), as a float."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    v = float(value)
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{what} must be {'positive' if positive else '≥ 0'}, got {v}")
    return v


def check_fraction(value: object, what: str) -> float:
    v = check_eps(value, what)
    if v > 1:
        raise ValueError(f"{what} must lie in [0, 1], got {v}")
    return v


def check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def check_flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {value!r}")
    return value
