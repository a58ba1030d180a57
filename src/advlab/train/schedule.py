"""Learning-rate schedules as plain functions of training progress (nothing to checkpoint)."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine", "step", "cyclic")


def check_schedule(name: str) -> str:
    if name not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; expected one of {list(SCHEDULES)}")
    return name


def lr_at(name: str, base_lr: float, progress: float) -> float:
    """Learning rate at ``progress`` ∈ [0, 1] of the whole run."""
    p = min(max(progress, 0.0), 1.0)
    if name == "constant":
        return base_lr
    if name == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * p))
    if name == "step":
        return base_lr * (0.1 if p >= 0.5 else 1.0) * (0.1 if p >= 0.75 else 1.0)
    if name == "cyclic":
        # Wong, Rice & Kolter: linear 0 → max at 2/5 of training → 0.
        peak = 0.4
        return base_lr * (p / peak if p <= peak else max(0.0, (1 - p) / (1 - peak)))
    raise ValueError(f"unknown learning-rate schedule {name!r}; expected one of {list(SCHEDULES)}")
