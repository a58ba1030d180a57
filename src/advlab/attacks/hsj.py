"""HopSkipJump (Chen, Jordan & Wainwright, IEEE S&P 2020): decision-based, L2 and L∞.

From a start on the adversarial side (blended noise), each iteration: bisect to the
boundary (towards ``x`` along the segment for L2, by shrinking an L∞ box around ``x`` for
L∞); estimate the boundary's normal by Monte-Carlo from ``init_evals·√t`` labels of random
points at distance δ around it (baseline-corrected); step along it (its sign for L∞) with
a geometric search from ``dist/√t`` halving until adversarial; repeat. Every sample moves in
lock-step, so each batch of queries holds many samples' rows; the gradient estimates are
split into chunks of at most ``chunk_rows`` rows to bound memory.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from advlab.attacks.blended import blended_start
from advlab.attacks.oracle import Oracle
from advlab.attacks.query import QueryAttack, bcast, rand, randn, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int


@ATTACKS.register("hsj")
class HopSkipJump(QueryAttack):
    """``HopSkipJump(norm="l2"|"linf", steps=64, init_evals=100, max_evals=10000, gamma=1.0, max_queries=None)``: minimisation."""

    name = "hsj"
    minimization = True

    def __init__(
        self,
        norm: str = "l2",
        steps: int = 64,
        init_evals: int = 100,
        max_evals: int = 10000,
        gamma: float = 1.0,
        init_directions: int = 1000,
        chunk_rows: int = 4096,
        max_queries: int | None = None,
    ):
        super().__init__(norm, max_queries)
        if self.norm.name not in ("l2", "linf"):
            raise ValueError(f"hsj: norm must be 'l2' or 'linf', got {norm!r}")
        self.steps: int = check_positive_int(steps, "hsj: steps", allow_none=False) or 1
        self.init_evals: int = check_positive_int(init_evals, "hsj: init_evals", allow_none=False) or 1
        self.max_evals: int = check_positive_int(max_evals, "hsj: max_evals", allow_none=False) or 1
        self.gamma = check_positive_float(gamma, "hsj: gamma")
        self.init_directions: int = check_positive_int(init_directions, "hsj: init_directions", allow_none=False) or 1
        self.chunk_rows: int = check_positive_int(chunk_rows, "hsj: chunk_rows", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "init_evals": self.init_evals, "max_evals": self.max_evals, "gamma": self.gamma}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        n, d = len(x), x[0].numel()
        linf = self.norm.name == "linf"
        theta = self.gamma / (d * d) if linf else self.gamma / (d * math.sqrt(d))
        adv, found = blended_start(oracle, x, y, target, generator, self.init_directions)
        adv = self._bisect(oracle, x, adv, y, target, found, theta)
        dist = self.norm.distance(adv - x)
        width = float((oracle.bounds.upper - oracle.bounds.lower).max())
        for it in range(1, self.steps + 1):
            idx = rows(found & ~oracle.exhausted())
            if not len(idx):
                break
            if it == 1:
                delta = torch.full((len(idx),), 0.1 * width, device=x.device)
            else:
                delta = (d if linf else math.sqrt(d)) * theta * dist[idx]
            evals = min(int(self.init_evals * math.sqrt(it)), self.max_evals)
            grad = self._gradient(oracle, adv[idx], y, target, idx, evals, delta, generator)
            update = grad.sign() if linf else grad
            moved = self._step(oracle, adv[idx], update, dist[idx] / math.sqrt(it), y, target, idx)
            has = torch.zeros(n, dtype=torch.bool, device=x.device)
            has[idx] = True
            cand = adv.clone()
            cand[idx] = moved
            cand = self._bisect(oracle, x, cand, y, target, has, theta)
            new = self.norm.distance(cand - x)
            better = has & (new < dist)
            adv[better], dist[better] = cand[better], new[better]
        return adv

    def _bisect(self, oracle: Oracle, x, adv, y, target, ok, theta: float) -> torch.Tensor:
        """Move each adversarial (where ``ok``) towards ``x`` to the boundary, within the threshold."""
        linf = self.norm.name == "linf"
        n = len(x)
        if linf:
            high = self.norm.distance(adv - x)
            thr = torch.clamp(high * theta, max=theta)
        else:
            high = torch.ones(n, device=x.device)
            thr = torch.full((n,), theta, device=x.device)
        low = torch.zeros(n, device=x.device)
        for _ in range(64):
            idx = rows(ok & ((high - low) > thr) & ~oracle.exhausted())
            if not len(idx):
                break
            mid = (high[idx] + low[idx]) / 2
            cand = self._towards(x[idx], adv[idx], mid)
            is_adv = oracle.adversarial(cand, y, target, owner=idx)
            high[idx] = torch.where(is_adv, mid, high[idx])
            low[idx] = torch.where(is_adv, low[idx], mid)
        out = self._towards(x, adv, high)
        return torch.where(bcast(ok, x), out, adv)

    def _towards(self, x, adv, alpha) -> torch.Tensor:
        a = bcast(alpha, x)
        if self.norm.name == "linf":
            return torch.minimum(torch.maximum(adv, x - a), x + a)
        return (1 - a) * x + a * adv

    def _gradient(self, oracle: Oracle, at, y, target, idx, evals: int, delta, generator) -> torch.Tensor:
        """Monte-Carlo estimate of the boundary normal at each row of ``at`` (unit L2 norm)."""
        per_chunk = max(1, self.chunk_rows // evals)
        out = torch.zeros_like(at)
        for s in range(0, len(at), per_chunk):
            a, own, dl = at[s : s + per_chunk], idx[s : s + per_chunk], delta[s : s + per_chunk]
            k = len(a)
            shape = (k, evals, *at.shape[1:])
            rv = randn(shape, generator, at) if self.norm.name == "l2" else rand(shape, generator, at) * 2 - 1
            rv = rv / rv.flatten(2).norm(dim=2).clamp_min(1e-12).reshape(k, evals, *([1] * (at.ndim - 1)))
            base = a[:, None]
            dl_b = dl.reshape(k, 1, *([1] * (at.ndim - 1)))
            pert = oracle.bounds.clip(base + dl_b * rv)
            rv = (pert - base) / dl_b.clamp_min(1e-12)
            flat = pert.reshape(k * evals, *at.shape[1:])
            decided, answered = oracle.decide(flat, y, target, owner=own.repeat_interleave(evals))
            fval = (decided.float() * 2 - 1).reshape(k, evals)
            w = answered.float().reshape(k, evals)
            count = w.sum(dim=1).clamp_min(1)
            mean = (fval * w).sum(dim=1) / count
            # Baseline: subtract the mean vote unless every answer agreed (then the plain mean direction).
            centred = torch.where(mean.abs()[:, None] >= 1, fval, fval - mean[:, None]) * w
            g = (centred.reshape(k, evals, *([1] * (at.ndim - 1))) * rv).sum(dim=1) / bcast(count, a)
            out[s : s + per_chunk] = g / bcast(g.flatten(1).norm(dim=1).clamp_min(1e-12), g)
        return out

    def _step(self, oracle: Oracle, at, update, size, y, target, idx) -> torch.Tensor:
        """Geometric step-size search: from ``size``, halve until ``at + size·update`` is adversarial."""
        moved = at.clone()
        todo = torch.ones(len(at), dtype=torch.bool, device=at.device)
        size = size.clone()
        for _ in range(30):
            local = rows(todo & ~oracle.exhausted()[idx])
            if not len(local):
                break
            cand = oracle.bounds.clip(at[local] + bcast(size[local], at[local]) * update[local])
            ok = oracle.adversarial(cand, y, target, owner=idx[local])
            moved[local[ok]] = cand[ok]
            todo[local[ok]] = False
            size[local[~ok]] /= 2
        return moved
