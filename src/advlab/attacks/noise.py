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

from advlab.attacks.query import QueryAttack, bcast, rand, randn, rows
from advlab.attacks.registry import register_attack
from advlab.attacks.validation import check_positive_int


@register_attack("noise")
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


@register_attack("salt-and-pepper")
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
        n, dev = len(x), x.device
        lo, hi = oracle.bounds.lower.to(x).expand_as(x), oracle.bounds.upper.to(x).expand_as(x)
        best, best_dist = x.clone(), torch.full((n,), float("inf"), device=dev)
        # The fraction p of pixels hit grows by `stride` per step inside [p_min, p_max]; a success narrows
        # the window around it (p/2 … 1.2·p) and restarts from its bottom.
        p_min, p_max = torch.zeros(n, device=dev), torch.ones(n, device=dev)
        stride = torch.full((n,), 1.0 / self.steps, device=dev)
        p = stride.clone()
        # One draw decides salt or pepper for every channel of a pixel (as in Foolbox, across channels).
        pix_shape = (1, *x.shape[2:]) if x.ndim >= 3 else tuple(x.shape[1:])
        for step in range(self.steps):
            idx = rows(~oracle.exhausted())
            if not len(idx):
                break
            u = rand((len(idx), *pix_shape), generator, x).expand_as(x[idx])
            pb = bcast(p[idx], u)
            cand = torch.where(u < pb / 2, lo[idx], torch.where(u >= 1 - pb / 2, hi[idx], x[idx]))
            adv = oracle.adversarial(cand, y, target, owner=idx)
            dist = self.norm.distance(cand - x[idx])
            better = adv & (dist < best_dist[idx])
            b = idx[better]
            best[b], best_dist[b] = cand[better], dist[better]
            p_min[b], p_max[b] = 0.5 * p[b], torch.clamp(1.2 * p[b], max=1.0)
            stride[b] = (p_max[b] - p_min[b]) / (self.steps - step)
            restart = better | (p[idx] >= p_max[idx])
            p[idx] = torch.minimum(torch.where(restart, p_min[idx], p[idx]) + stride[idx], p_max[idx])
        return best
