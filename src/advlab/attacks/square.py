"""Square attack (Andriushchenko et al., ECCV 2020): score-based random search in L∞ and L2.

Each iteration proposes a change inside one random square window (its side shrinks with
the schedule of the paper, from ``p_init`` of the image area) and keeps it per sample if the
log-probability margin drops. L∞: the window gets ±ε per channel; L2: a pair of signed
pseudo-Gaussian bumps in one window, the mass of a second window moved into it, the whole
perturbation rescaled to ε. Start: vertical stripes of ±ε (L∞) or a grid of bumps (L2).
One query per sample for the clean input, one for the start, one per iteration while the
sample is not yet adversarial. As in the authors' code, a window's position is shared by
the batch in one iteration.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from advlab.attacks.oracle import Oracle
from advlab.attacks.query import QueryAttack, bcast, rand, randint, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int

_SCHEDULE = ((10, 2), (50, 4), (200, 8), (500, 16), (1000, 32), (2000, 64), (4000, 128), (6000, 256), (8000, 512))


def p_selection(p_init: float, it: int, n_iters: int) -> float:
    """The paper's schedule for the window's share of the image, halving at fixed fractions of 10000 steps."""
    it = int(it / max(n_iters, 1) * 10000)
    div = 1
    for start, d in _SCHEDULE:
        if it > start:
            div = d
    return p_init / div


def _as4d(x: torch.Tensor) -> torch.Tensor:
    if x.ndim == 4:
        return x
    if x.ndim == 3:
        return x[:, None]
    return x.reshape(x.shape[0], 1, 1, -1)


def _bump(s: int, generator: torch.Generator) -> torch.Tensor:
    """The paper's L2 update shape: a positive and a negative pseudo-Gaussian half, unit norm, random orientation."""

    def rect(a: int, b: int) -> torch.Tensor:
        d = torch.zeros(a, b)
        ca, cb = a // 2 + 1, b // 2 + 1
        r, c = ca - 1, cb - 1
        for k in range(max(ca, cb)):
            d[max(r, 0) : min(r + 2 * k + 1, a), max(c, 0) : min(c + 2 * k + 1, b)] += 1.0 / (k + 1) ** 2
            r, c = r - 1, c - 1
        return d / d.norm().clamp_min(1e-12)

    d = torch.zeros(s, s)
    if s // 2 > 0:
        d[: s // 2] = rect(s // 2, s)
    d[s // 2 :] = -rect(s - s // 2, s)
    d = d / d.norm().clamp_min(1e-12)
    return d.T.contiguous() if torch.rand(1, generator=generator).item() > 0.5 else d


@ATTACKS.register("square")
class Square(QueryAttack):
    """``Square(norm="linf"|"l2", steps=1000, p_init=0.3 (L∞) / 0.1 (L2), max_queries=None)``: fixed ε, best per sample."""

    name = "square"

    def __init__(self, norm: str = "linf", steps: int = 1000, p_init: float | None = None, max_queries: int | None = None):
        super().__init__(norm, max_queries)
        if self.norm.name not in ("linf", "l2"):
            raise ValueError(f"square: norm must be 'linf' or 'l2', got {norm!r}")
        self.steps: int = check_positive_int(steps, "square: steps", allow_none=False) or 1
        default = 0.3 if self.norm.name == "linf" else 0.1
        self.p_init = check_positive_float(default if p_init is None else p_init, "square: p_init")
        if self.p_init > 1:
            raise ValueError(f"square: p_init must be in (0, 1], got {p_init}")

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "p_init": self.p_init}

    def search(
        self,
        oracle: Oracle,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: torch.Tensor | None,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        if eps is None:
            raise ValueError("square: eps is required (a fixed-size attack)")
        shape = x.shape
        x4 = _as4d(x)
        # (1, C, H, W): broadcast against any rows, never gathered
        lo = _as4d(oracle.bounds.lower.to(x).expand(shape[1:])[None])
        hi = _as4d(oracle.bounds.upper.to(x).expand(shape[1:])[None])
        e = bcast(eps.to(x), x4)
        n, c, h, w = x4.shape
        linf = self.norm.name == "linf"

        def query(z4: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            return oracle.margin(z4.reshape(len(z4), *shape[1:]), y, target, owner=idx)

        everyone = torch.arange(n, device=x.device)
        margin = query(x4, everyone)  # the clean inputs: already adversarial ones stay as they are
        best = x4.clone()
        todo = rows(margin > 0)
        if len(todo):
            start = self._start_point(x4[todo], e[todo], generator)
            start = torch.minimum(torch.maximum(start, lo), hi)
            m = query(start, todo)
            best[todo], margin[todo] = start, m
        n_iters = min(self.steps, self.max_queries or self.steps)
        for it in range(self.steps):
            active = (margin > 0) & torch.isfinite(margin) & ~oracle.exhausted()
            if not active.any():
                break
            idx = rows(active)
            p = p_selection(self.p_init, it, n_iters)
            xi, cur, ei = (x4, best, e) if len(idx) == n else (x4[idx], best[idx], e[idx])
            if linf:
                s = min(max(int(round(math.sqrt(p * h * w))), 1), h, w)
                cand = self._linf_step(xi, cur, ei, s, lo, hi, generator)
            else:
                s = min(max(int(round(math.sqrt(p * h * w))), 3), h, w)
                cand = self._l2_step(xi, cur, ei, s, lo, hi, generator)
            m = query(cand, idx)
            better = m < margin[idx]
            best[idx[better]], margin[idx[better]] = cand[better], m[better]
        return best.reshape(shape)

    def _start_point(self, x4: torch.Tensor, e: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, c, h, w = x4.shape
        if self.norm.name == "linf":
            return x4 + e * (rand((n, c, 1, w), generator, x4).round() * 2 - 1)
        s = max(min(h, w) // 5, 1)
        delta = torch.zeros_like(x4)
        r0 = (h - s * (h // s)) // 2
        c0 = (w - s * (w // s)) // 2
        for i in range(h // s):
            for j in range(w // s):
                sign = rand((n, c, 1, 1), generator, x4).round() * 2 - 1
                r, cc = r0 + i * s, c0 + j * s
                delta[:, :, r : r + s, cc : cc + s] += _bump(s, generator).to(x4) * sign
        norm = delta.flatten(1).norm(dim=1).clamp_min(1e-12)
        return x4 + delta / bcast(norm, x4) * e

    def _linf_step(self, x4, cur, e, s, lo, hi, generator) -> torch.Tensor:
        k, c, h, w = x4.shape
        r, q = int(randint(h - s + 1, (1,), generator, torch.device("cpu"))), int(randint(w - s + 1, (1,), generator, torch.device("cpu")))
        win = (slice(None), slice(None), slice(r, r + s), slice(q, q + s))
        sign = (rand((k, c, 1, 1), generator, x4).round() * 2 - 1) * e
        new = torch.minimum(torch.maximum(x4[win] + sign, lo[win]), hi[win])
        # The authors redraw a proposal that changes nothing; flipping its signs does the same in one go.
        same = (new - cur[win]).abs().flatten(1).amax(dim=1) < 1e-7
        flipped = torch.minimum(torch.maximum(x4[win] - sign, lo[win]), hi[win])
        new = torch.where(bcast(same, new), flipped, new)
        cand = cur.clone()
        cand[win] = new
        return cand

    def _l2_step(self, x4, cur, e, s, lo, hi, generator) -> torch.Tensor:
        k, c, h, w = x4.shape
        if s % 2 == 0 and s < min(h, w):
            s += 1
        pos = randint(h - s + 1, (2,), generator, torch.device("cpu")), randint(w - s + 1, (2,), generator, torch.device("cpu"))
        r1, q1, r2, q2 = int(pos[0][0]), int(pos[1][0]), int(pos[0][1]), int(pos[1][1])
        w1 = (slice(None), slice(None), slice(r1, r1 + s), slice(q1, q1 + s))
        w2 = (slice(None), slice(None), slice(r2, r2 + s), slice(q2, q2 + s))
        delta = cur - x4
        mask1 = torch.zeros_like(delta[:, :1])
        mask1[w1] = 1
        mask2 = mask1.clone()
        mask2[w2] = 1
        win_norm = delta[w1].square().sum(dim=(2, 3), keepdim=True).sqrt()
        img_norm = delta.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
        both_norm = (delta * mask2).square().sum(dim=(2, 3), keepdim=True).sqrt()
        bump = _bump(s, generator).to(x4)[None, None] * (rand((k, c, 1, 1), generator, x4).round() * 2 - 1)
        new = bump + delta[w1] / (win_norm + 1e-10)
        budget = ((e.square() - img_norm.square()).clamp_min(0) / c + both_norm.square()).sqrt()
        new = new / new.square().sum(dim=(2, 3), keepdim=True).sqrt().clamp_min(1e-12) * budget
        delta = delta.clone()
        delta[w2] = 0.0
        delta[w1] = new
        norm = delta.flatten(1).norm(dim=1).clamp_min(1e-12)
        cand = x4 + delta / bcast(norm, x4) * e
        return torch.minimum(torch.maximum(cand, lo), hi)
