"""Pointwise attack (Schott et al., ICLR 2019): decision-based L0 minimisation.

Start from salt-and-pepper noise that is adversarial; then, in a random order per sample,
reset each changed coordinate to its original value whenever the result stays adversarial.
Passes repeat (new random order) until a whole pass resets nothing. All samples advance in
lock-step, one coordinate and one query each per step.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.noise import SaltPepperSearch, bounds_like
from advlab.attacks.query import QueryAttack, rand, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int


@ATTACKS.register("pointwise")
class Pointwise(QueryAttack):
    """``Pointwise(norm="l0", init_steps=100, restarts=5, max_passes=100, max_queries=None)``: L0 minimisation.

    Each of ``restarts`` cycles starts from fresh salt-and-pepper noise (``init_steps`` queries), then
    spends one query per coordinate tried; the sparsest result is kept. With ``max_queries``, cycles go
    on until the budget is spent or ``restarts`` is reached."""

    name = "pointwise"
    minimization = True

    def __init__(
        self, norm: str = "l0", init_steps: int = 100, restarts: int = 5, max_passes: int = 100, max_queries: int | None = None
    ):
        super().__init__(norm, max_queries)
        self.init_steps: int = check_positive_int(init_steps, "pointwise: init_steps", allow_none=False) or 1
        self.restarts: int = check_positive_int(restarts, "pointwise: restarts", allow_none=False) or 1
        self.max_passes: int = check_positive_int(max_passes, "pointwise: max_passes", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"init_steps": self.init_steps, "restarts": self.restarts, "max_passes": self.max_passes}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        n, dev = len(x), x.device
        flat_x = x.flatten(1)
        lo, hi = bounds_like(oracle, x)
        start = SaltPepperSearch(x, lo, hi, self.init_steps, self.norm)
        best = x.clone().flatten(1)
        best_dist = torch.full((n,), float("inf"), device=dev)
        # Each sample runs its own cycle — a salt-and-pepper start (phase 0), then passes (phase 1) — and
        # starts again (up to `restarts` cycles) as soon as it is done, so every query batch stays full.
        phase = torch.zeros(n, dtype=torch.long, device=dev)
        cycles = torch.zeros(n, dtype=torch.long, device=dev)
        adv = flat_x.clone()
        # A pass visits the coordinates changed at its start, in random order: `queue` holds them, `length`
        # how many, `ptr` the next. Only the coordinate under test changes during a pass: the queue stays valid.
        queue = torch.zeros(n, flat_x.shape[1], dtype=torch.long, device=dev)
        length, ptr, passes = (torch.zeros(n, dtype=torch.long, device=dev) for _ in range(3))
        improved = torch.zeros(n, dtype=torch.bool, device=dev)
        active = torch.ones(n, dtype=torch.bool, device=dev)
        while True:
            active &= ~oracle.exhausted()
            # start finished: begin the passes where it found an adversarial, else this cycle is over
            ready = rows(active & (phase == 0) & start.done())
            if len(ready):
                found = torch.isfinite(start.best_dist[ready])
                adv[ready] = start.best[ready].flatten(1)
                phase[ready[found]] = 1
                improved[ready[found]], ptr[ready[found]], length[ready[found]], passes[ready[found]] = True, 0, 0, 0
                self._end_cycle(ready[~found], cycles, phase, start, active)
            ended = active & (phase == 1) & (ptr >= length)
            if ended.any():
                again = ended & improved & (passes < self.max_passes)
                stop = rows(ended & ~again)
                if len(stop):
                    d = self.norm.distance(adv[stop] - flat_x[stop])
                    better = d < best_dist[stop]
                    best[stop[better]], best_dist[stop[better]] = adv[stop[better]], d[better]
                    self._end_cycle(stop, cycles, phase, start, active)
                e = rows(again)
                if len(e):
                    diff = adv[e] != flat_x[e]
                    keys = rand(diff.shape, generator, flat_x) + (~diff).to(flat_x.dtype) * 2
                    queue[e], length[e], ptr[e] = keys.argsort(dim=1), diff.sum(dim=1), 0
                    passes[e] += 1
                    improved[e] = False
                continue
            i0, i1 = rows(active & (phase == 0)), rows(active & (phase == 1))
            if not len(i0) and not len(i1):
                break
            c0 = start.propose(i0, generator)
            coord = queue[i1, ptr[i1]]
            c1 = adv[i1].clone()
            c1[torch.arange(len(i1), device=dev), coord] = flat_x[i1, coord]
            ok = oracle.adversarial(torch.cat([c0, c1.reshape(len(i1), *x.shape[1:])]), y, target, owner=torch.cat([i0, i1]))
            start.update(i0, c0, ok[: len(i0)])
            ok1 = ok[len(i0) :]
            adv[i1[ok1]] = c1[ok1]
            improved[i1[ok1]] = True
            ptr[i1] += 1
        return best.reshape(x.shape)

    def _end_cycle(self, idx, cycles, phase, start, active) -> None:
        if not len(idx):
            return
        cycles[idx] += 1
        phase[idx] = 0
        start.reset(idx)
        active[idx[cycles[idx] >= self.restarts]] = False
