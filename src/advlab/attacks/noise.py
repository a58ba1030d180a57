"""Noise attacks (decision-based): repeated additive Gaussian/uniform noise (L2, L∞) and salt-and-pepper (L0).

``AdditiveNoise`` draws up to ``repeats`` random perturbations of norm exactly ε per sample
and keeps the first that is adversarial (fixed ε). ``SaltAndPepper`` sets a growing
fraction of pixels to the lower or upper bound; each success narrows the window of fractions
searched around it (as Foolbox 3 does), for ``steps`` queries in all (minimisation, in L0
by default: the number of changed coordinates).
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.norms import Norm
from advlab.attacks.query import QueryAttack, bcast, rand, randn, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int


@ATTACKS.register("noise")
class AdditiveNoise(QueryAttack):
    """``AdditiveNoise(norm="l2"|"linf", distribution="gaussian"|"uniform", repeats=100, max_queries=None)``: fixed ε."""

    name = "noise"

    def __init__(self, norm: str = "l2", distribution: str = "gaussian", repeats: int = 100, max_queries: int | None = None):
        super().__init__(norm, max_queries)
        if self.norm.name not in ("l2", "linf"):
            raise ValueError(f"noise: norm must be 'l2' or 'linf', got {norm!r}")
        if distribution not in ("gaussian", "uniform"):
            raise ValueError(f"noise: distribution must be 'gaussian' or 'uniform', got {distribution!r}")
        self.distribution = distribution
        self.repeats: int = check_positive_int(repeats, "noise: repeats", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"distribution": self.distribution, "repeats": self.repeats}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        if eps is None:
            raise ValueError("noise: eps is required (a fixed-size attack)")
        best = x.clone()
        done = oracle.adversarial(x, y, target)  # an input already misclassified stays as it is
        for _ in range(self.repeats):
            idx = rows(~done & ~oracle.exhausted())
            if not len(idx):
                break
            xi = x[idx]
            d = randn(xi.shape, generator, xi) if self.distribution == "gaussian" else rand(xi.shape, generator, xi) * 2 - 1
            d = d / bcast(self.norm.distance(d).clamp_min(1e-12), d) * bcast(eps[idx].to(xi), xi)
            cand = oracle.bounds.clip(xi + d)
            adv = oracle.adversarial(cand, y, target, owner=idx)
            best[idx[adv]] = cand[adv]
            done[idx[adv]] = True
        return best


class SaltPepperSearch:
    """Per-sample state of the salt-and-pepper search, steppable for any subset of samples.

    The fraction p of pixels hit grows by ``stride`` per step inside [p_min, p_max]; a success narrows
    the window around it (p/2 … 1.2·p) and restarts from its bottom (as Foolbox 3 does). One draw
    decides salt or pepper for every channel of a pixel.
    """

    def __init__(self, x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, steps: int, norm: Norm):
        n, dev = len(x), x.device
        self.x, self.lo, self.hi, self.steps, self.norm = x, lo, hi, steps, norm
        self.best, self.best_dist = x.clone(), torch.full((n,), float("inf"), device=dev)
        self.p_min, self.p_max = torch.zeros(n, device=dev), torch.ones(n, device=dev)
        self.stride = torch.full((n,), 1.0 / steps, device=dev)
        self.p = self.stride.clone()
        self.step = torch.zeros(n, dtype=torch.long, device=dev)
        self.pix_shape = (1, *x.shape[2:]) if x.ndim >= 3 else tuple(x.shape[1:])

    def reset(self, idx: torch.Tensor) -> None:
        self.best[idx], self.best_dist[idx] = self.x[idx], float("inf")
        self.p_min[idx], self.p_max[idx], self.stride[idx] = 0.0, 1.0, 1.0 / self.steps
        self.p[idx], self.step[idx] = 1.0 / self.steps, 0

    def done(self) -> torch.Tensor:
        return self.step >= self.steps

    def propose(self, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = self.x[idx]
        u = rand((len(idx), *self.pix_shape), generator, x).expand_as(x)
        pb = bcast(self.p[idx], u)
        return torch.where(u < pb / 2, self.lo, torch.where(u >= 1 - pb / 2, self.hi, x))

    def update(self, idx: torch.Tensor, cand: torch.Tensor, adv: torch.Tensor) -> None:
        if not len(idx):
            return
        dist = self.norm.distance(cand - self.x[idx])
        better = adv & (dist < self.best_dist[idx])
        b = idx[better]
        self.best[b], self.best_dist[b] = cand[better], dist[better]
        p = self.p
        self.p_min[b], self.p_max[b] = 0.5 * p[b], torch.clamp(1.2 * p[b], max=1.0)
        self.stride[b] = (self.p_max[b] - self.p_min[b]) / (self.steps - self.step[b]).clamp_min(1)
        restart = better | (p[idx] >= self.p_max[idx])
        p[idx] = torch.minimum(torch.where(restart, self.p_min[idx], p[idx]) + self.stride[idx], self.p_max[idx])
        self.step[idx] += 1


@ATTACKS.register("salt-and-pepper")
class SaltAndPepper(QueryAttack):
    """``SaltAndPepper(norm="l0", steps=1000, max_queries=None)``: minimisation, one query per sample per step."""

    name = "salt-and-pepper"
    minimization = True

    def __init__(self, norm: str = "l0", steps: int = 1000, max_queries: int | None = None):
        super().__init__(norm, max_queries)
        self.steps: int = check_positive_int(steps, "salt-and-pepper: steps", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        lo, hi = bounds_like(oracle, x)
        state = SaltPepperSearch(x, lo, hi, self.steps, self.norm)
        for _ in range(self.steps):
            idx = rows(~oracle.exhausted())
            if not len(idx):
                break
            cand = state.propose(idx, generator)
            state.update(idx, cand, oracle.adversarial(cand, y, target, owner=idx))
        return state.best


def bounds_like(oracle: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The bounds as (1, …) tensors broadcasting against rows of ``x``."""
    shape = (1, *x.shape[1:])
    return oracle.bounds.lower.to(x).expand(shape), oracle.bounds.upper.to(x).expand(shape)
