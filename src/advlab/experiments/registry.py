"""Registered experiments: each is a function ``run(ctx) -> ExperimentResult`` built from the public API."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from advlab.registry import Registry


@dataclass
class Comparison:
    """One reproduced number beside the published one."""

    quantity: str
    ours: float
    paper: float | str | None
    unit: str = ""
    note: str = ""

    def row(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "ours": self.ours, "paper": self.paper, "unit": self.unit, "note": self.note}


@dataclass
class ExperimentContext:
    """What an experiment may use: where to write, which data, how loud, how big."""

    out_dir: Path
    data_dir: Path | None = None
    quiet: bool = False
    device: str | None = None
    seed: int = 0
    fast: bool = False  # smaller scale for tests and the demo; results say so
    options: dict[str, Any] = field(default_factory=dict)

    def sub(self, name: str) -> ExperimentContext:
        return ExperimentContext(self.out_dir / name, self.data_dir, self.quiet, self.device, self.seed, self.fast, dict(self.options))


@dataclass
class ExperimentResult:
    name: str
    title: str
    summary: str  # plain explanation shown at the top of the report section
    metrics: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)  # name → matplotlib Figure
    captions: dict[str, str] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    scale: str = ""  # the scale we ran at, stated honestly
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def comparison_text(self) -> str:
        if not self.comparisons:
            return ""
        lines = [f"{'quantity':<58} {'ours':>10} {'paper':>10}  note"]
        for c in self.comparisons:
            lines.append(f"{c.quantity:<58} {_fmt(c.ours, c.unit):>10} {_fmt(c.paper, c.unit):>10}  {c.note}")
        return "\n".join(lines)


def agreement_note(ours: float, paper: float, why: str, tolerance: float) -> str:
    """'close (within T points)' or 'differs by ±D points: why': the note column of a comparison."""
    diff = ours - paper
    return f"close (within {tolerance:g} points)" if abs(diff) <= tolerance else f"differs by {diff:+.1f} points: {why}"


def _fmt(v: Any, unit: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.1f}%" if unit == "%" else f"{v:.4g}{unit}"


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    module: str
    function: str

    def run(self, ctx: ExperimentContext) -> ExperimentResult:
        fn: Callable[[ExperimentContext], ExperimentResult] = getattr(importlib.import_module(self.module), self.function)
        # Experiments that still draw from torch's global RNG see ctx.seed, inside a fork: the caller's
        # global state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.seed)
            return fn(ctx)


#: Experiments by name; modules are imported only when their experiment runs, so `--list` stays instant.
EXPERIMENTS: Registry[Experiment] = Registry("experiment", hint=" (see `advlab reproduce --list`)")
