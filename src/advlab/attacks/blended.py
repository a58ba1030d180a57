"""Blended uniform noise and contrast reduction: the simplest decision-based attacks, and the start of the others.

Both walk the segment from the input ``x`` towards a far point (uniform noise drawn until
it is adversarial; the grey centre of the bounds) and binary-search the smallest blend
``(1 − α)·x + α·far`` that is still adversarial. ``blended_start`` is the usual
initialisation of Boundary, HopSkipJump and Pointwise.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.oracle import Oracle
from advlab.attacks.query import QueryAttack, bcast, rand, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int


def uniform_noise(oracle: Oracle, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    lo, hi = oracle.bounds.lower.to(like), oracle.bounds.upper.to(like)
    return lo + (hi - lo) * rand(like.shape, generator, like)


def blend_search(
    oracle: Oracle, x: torch.Tensor, far: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None,
    ok: torch.Tensor, steps: int,
) -> torch.Tensor:
    """Per sample with ``ok`` (``far`` adversarial): the blend ``x + α(far − x)`` with the smallest α
    found adversarial in ``steps`` bisections. Others are returned as ``x``. One query per step."""
    n = len(x)
    low = torch.zeros(n, device=x.device)
    high = torch.ones(n, device=x.device)
    for _ in range(steps):
        idx = rows(ok & ~oracle.exhausted())
        if not len(idx):
            break
        mid = (low[idx] + high[idx]) / 2
        cand = x[idx] + bcast(mid, x[idx]) * (far[idx] - x[idx])
        adv = oracle.adversarial(cand, y, target, owner=idx)
        high[idx] = torch.where(adv, mid, high[idx])
        low[idx] = torch.where(adv, low[idx], mid)
    out = x + bcast(high, x) * (far - x)
    return torch.where(bcast(ok, x), out, x)


def blended_start(
    oracle: Oracle, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator,
    directions: int = 100, steps: int = 12,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(start, found): for each sample, uniform noise redrawn (up to ``directions`` times) until adversarial,
    then blended back towards ``x`` by bisection. Where none is found, ``start`` is ``x``."""
    found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    far = x.clone()
    for _ in range(directions):
        idx = rows(~found & ~oracle.exhausted())
        if not len(idx):
            break
        noise = uniform_noise(oracle, x[idx], generator)
        adv = oracle.adversarial(noise, y, target, owner=idx)
        far[idx[adv]] = noise[adv]
        found[idx[adv]] = True
    return blend_search(oracle, x, far, y, target, found, steps), found


@ATTACKS.register("blended-noise")
class BlendedNoise(QueryAttack):
    """``BlendedNoise(norm="l2", directions=1000, steps=15, max_queries=None)``: minimisation (any norm reported)."""

    name = "blended-noise"
    minimization = True

    def __init__(self, norm: str = "l2", directions: int = 1000, steps: int = 15, max_queries: int | None = None):
        super().__init__(norm, max_queries)
        self.directions: int = check_positive_int(directions, f"{self.name}: directions", allow_none=False) or 1
        self.steps: int = check_positive_int(steps, f"{self.name}: steps", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"directions": self.directions, "steps": self.steps}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        return blended_start(oracle, x, y, target, generator, self.directions, self.steps)[0]


@ATTACKS.register("contrast")
class ContrastReduction(QueryAttack):
    """``ContrastReduction(norm="l2", steps=15, max_queries=None)``: blend towards the centre of the bounds."""

    name = "contrast"
    minimization = True

    def __init__(self, norm: str = "l2", steps: int = 15, max_queries: int | None = None):
        super().__init__(norm, max_queries)
        self.steps: int = check_positive_int(steps, f"{self.name}: steps", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        grey = ((oracle.bounds.lower + oracle.bounds.upper) / 2).to(x).expand_as(x).clone()
        ok = oracle.adversarial(grey, y, target)
        return blend_search(oracle, x, grey, y, target, ok, self.steps)
