"""Pointwise attack (Schott et al., ICLR 2019): decision-based L0 minimisation.

Start from salt-and-pepper noise that is adversarial; then, in a random order per sample,
reset each changed coordinate to its original value whenever the result stays adversarial.
Passes repeat (new random order) until a whole pass resets nothing. All samples advance in
lock-step, one coordinate and one query each per step.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.noise import SaltAndPepper
from advlab.attacks.query import QueryAttack, rand, rows
from advlab.attacks.registry import register_attack
from advlab.attacks.validation import check_positive_int


@register_attack("pointwise")
class Pointwise(QueryAttack):
    """``Pointwise(norm="l0", init_steps=300, restarts=1, max_passes=100, max_queries=None)``: L0 minimisation.

    ``restarts`` > 1 starts again from fresh salt-and-pepper noise and keeps the sparsest result
    (each restart spends up to ``init_steps`` queries on the start, then one per coordinate tried)."""

    name = "pointwise"
    minimization = True

    def __init__(
        self, norm: str = "l0", init_steps: int = 300, restarts: int = 1, max_passes: int = 100, max_queries: int | None = None
    ):
        super().__init__(norm, max_queries)
        self.init_steps: int = check_positive_int(init_steps, "pointwise: init_steps", allow_none=False) or 1
        self.restarts: int = check_positive_int(restarts, "pointwise: restarts", allow_none=False) or 1
        self.max_passes: int = check_positive_int(max_passes, "pointwise: max_passes", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"init_steps": self.init_steps, "restarts": self.restarts, "max_passes": self.max_passes}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        best = x.clone()
        best_dist = torch.full((len(x),), float("inf"), device=x.device)
        for _ in range(self.restarts):
            idx = rows(~oracle.exhausted())
            if not len(idx):
                break
            t = None if target is None else target[idx]
            found = self._once(oracle.subset(idx.cpu()), x[idx], y[idx], t, generator)
            d = self.norm.distance(found - x[idx])
            ok = (found != x[idx]).flatten(1).any(dim=1) & (d < best_dist[idx])
            best[idx[ok]], best_dist[idx[ok]] = found[ok], d[ok]
        return best

    def _once(self, oracle, x, y, target, generator) -> torch.Tensor:
        n, dev = len(x), x.device
        init = SaltAndPepper(steps=self.init_steps)
        adv = init.search(oracle, x, y, eps=None, target=target, generator=generator).flatten(1).clone()
        flat_x = x.flatten(1)
        active = (adv != flat_x).any(dim=1)  # found a start
        # A pass visits the coordinates changed at its start, in a random order: `queue` holds them
        # (padded), `length` how many, `ptr` the next one. Only the current coordinate can change
        # during a pass, so the queue stays valid until the pass ends.
        queue = torch.zeros(n, 1, dtype=torch.long, device=dev)
        length = torch.zeros(n, dtype=torch.long, device=dev)
        ptr = torch.zeros(n, dtype=torch.long, device=dev)
        improved = torch.ones(n, dtype=torch.bool, device=dev)
        passes = torch.zeros(n, dtype=torch.long, device=dev)
        while True:
            active &= ~oracle.exhausted()
            ended = active & (ptr >= length)
            if ended.any():
                # End of a pass: another in a new order if the last one reset something, else done.
                again = ended & improved & (passes < self.max_passes)
                active &= ~(ended & ~again)
                if again.any():
                    e = rows(again)
                    diff = adv[e] != flat_x[e]
                    keys = rand(diff.shape, generator, flat_x) + (~diff).to(flat_x.dtype) * 2
                    order = keys.argsort(dim=1)
                    width = max(queue.shape[1], diff.shape[1])
                    if queue.shape[1] < width:
                        queue = torch.cat([queue, queue.new_zeros(n, width - queue.shape[1])], dim=1)
                    queue[e] = order
                    length[e], ptr[e] = diff.sum(dim=1), 0
                    passes[e] += 1
                    improved[e] = False
            if not active.any():
                break
            idx = rows(active)
            coord = queue[idx, ptr[idx]]
            cand = adv[idx].clone()
            cand[torch.arange(len(idx), device=dev), coord] = flat_x[idx, coord]
            ok = oracle.adversarial(cand.reshape(len(idx), *x.shape[1:]), y, target, owner=idx)
            adv[idx[ok]] = cand[ok]
            improved[idx[ok]] = True
            ptr[idx] += 1
        return adv.reshape(x.shape)
