"""One-pixel / few-pixel attack (Su, Vargas & Sakurai, 2019): score-based differential evolution.

A candidate is ``pixels`` (row, column, value per channel) tuples. A population of
``population`` candidates per sample evolves by DE/rand/1 (F = ``mutation``, no crossover,
as in the paper): each child ``a + F·(b − c)`` from three random parents replaces its own
parent when its fitness — the log-probability margin of the true class (or of the target)
— is lower. A sample stops at its first adversarial. Every sample's population is queried
in one batch per generation. Minimisation in L0: the answer changes at most
``pixels × channels`` coordinates.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.query import QueryAttack, rand, randint, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int


@ATTACKS.register("onepixel")
class OnePixel(QueryAttack):
    """``OnePixel(pixels=1, population=400, generations=100, mutation=0.5, max_queries=None)``."""

    name = "onepixel"
    minimization = True

    def __init__(
        self, norm: str = "l0", pixels: int = 1, population: int = 400, generations: int = 100,
        mutation: float = 0.5, max_queries: int | None = None,
    ):
        super().__init__(norm, max_queries)
        self.pixels: int = check_positive_int(pixels, "onepixel: pixels", allow_none=False) or 1
        self.population: int = check_positive_int(population, "onepixel: population", allow_none=False) or 1
        if self.population < 4:
            raise ValueError(f"onepixel: population must be ≥ 4 (three parents and a child), got {population}")
        self.generations: int = check_positive_int(generations, "onepixel: generations", allow_none=False) or 1
        self.mutation = check_positive_float(mutation, "onepixel: mutation")

    def params(self) -> dict[str, Any]:
        return {"pixels": self.pixels, "population": self.population, "generations": self.generations, "mutation": self.mutation}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"onepixel: needs images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
        img = x if x.ndim == 4 else x[:, None]
        n, c, h, w = img.shape
        lo = oracle.bounds.lower.to(x).expand(x.shape).reshape(img.shape)
        hi = oracle.bounds.upper.to(x).expand(x.shape).reshape(img.shape)
        p, k = self.population, self.pixels
        # Genes per pixel: row and column in [0, 1) (scaled to the grid), then the values in [0, 1] (scaled to bounds).
        pop = rand((n, p, k, 2 + c), generator, x)
        best = img.clone()
        fitness = self._fitness(oracle, img, lo, hi, pop, y, target, torch.arange(n, device=x.device))
        found = torch.isfinite(fitness) & (fitness < 0)
        self._keep(best, img, lo, hi, pop, fitness, found)
        for _ in range(self.generations - 1):
            idx = rows(~found.any(dim=1) & ~oracle.exhausted())
            if not len(idx):
                break
            parents = randint(p, (len(idx), p, 3), generator, x.device)
            sel = pop[idx]
            pick = [sel.gather(1, parents[:, :, j].reshape(len(idx), p, 1, 1).expand(-1, -1, k, 2 + c)) for j in range(3)]
            child = (pick[0] + self.mutation * (pick[1] - pick[2])).clamp(0, 1 - 1e-6)
            f = self._fitness(oracle, img[idx], lo[idx], hi[idx], child, y, target, idx)
            better = f < fitness[idx]
            pop[idx] = torch.where(better[:, :, None, None], child, sel)
            fitness[idx] = torch.where(better, f, fitness[idx])
            found[idx] = torch.isfinite(fitness[idx]) & (fitness[idx] < 0)
            self._keep(best, img, lo, hi, pop, fitness, found)
        return best.reshape(x.shape)

    def _apply(self, img, lo, hi, genes) -> torch.Tensor:
        """Images (m·p, C, H, W): each of m inputs with each of its p candidates' pixels set."""
        m, p, k, g = genes.shape
        _, c, h, w = img.shape
        out = img[:, None].expand(m, p, c, h, w).reshape(m * p, c, h * w).clone()
        genes = genes.reshape(m * p, k, g)
        lo_f = lo[:, None].expand(m, p, c, h, w).reshape(m * p, c, h * w)
        hi_f = hi[:, None].expand(m, p, c, h, w).reshape(m * p, c, h * w)
        for j in range(k):
            pos = (genes[:, j, 0] * h).long().clamp(0, h - 1) * w + (genes[:, j, 1] * w).long().clamp(0, w - 1)
            at = pos[:, None, None].expand(-1, c, 1)
            value = lo_f.gather(2, at) + genes[:, j, 2:, None] * (hi_f.gather(2, at) - lo_f.gather(2, at))
            out.scatter_(2, at, value)
        return out.reshape(m * p, c, h, w)

    def _fitness(self, oracle, img, lo, hi, genes, y, target, idx) -> torch.Tensor:
        m, p = genes.shape[:2]
        cand = self._apply(img, lo, hi, genes)
        shape = (m * p, *oracle.model.input_shape)
        return oracle.margin(cand.reshape(shape), y, target, owner=idx.repeat_interleave(p)).reshape(m, p)

    def _keep(self, best, img, lo, hi, pop, fitness, found) -> None:
        """Write the first adversarial candidate of each newly successful sample into ``best``."""
        new = rows(found.any(dim=1) & (best == img).flatten(1).all(dim=1))
        if len(new):
            j = found[new].float().argmax(dim=1)
            genes = pop[new, j][:, None]
            best[new] = self._apply(img[new], lo[new], hi[new], genes)
