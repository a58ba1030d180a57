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
    """``Pointwise(norm="l0", init_steps=100, init_repeats=1, max_passes=100, max_queries=None)``: L0 minimisation."""

    name = "pointwise"
    minimization = True

    def __init__(
        self, norm: str = "l0", init_steps: int = 100, init_repeats: int = 1, max_passes: int = 100, max_queries: int | None = None
    ):
        super().__init__(norm, max_queries)
        self.init_steps: int = check_positive_int(init_steps, "pointwise: init_steps", allow_none=False) or 1
        self.init_repeats: int = check_positive_int(init_repeats, "pointwise: init_repeats", allow_none=False) or 1
        self.max_passes: int = check_positive_int(max_passes, "pointwise: max_passes", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"init_steps": self.init_steps, "init_repeats": self.init_repeats, "max_passes": self.max_passes}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        n = len(x)
        init = SaltAndPepper(steps=self.init_steps, repeats=self.init_repeats)
        adv = init.search(oracle, x, y, eps=None, target=target, generator=generator).flatten(1).clone()
        flat_x = x.flatten(1)
        d = flat_x.shape[1]
        active = (adv != flat_x).any(dim=1)  # found a start
        order = rand((n, d), generator, flat_x).argsort(dim=1)
        ptr = torch.zeros(n, dtype=torch.long, device=x.device)
        improved = torch.zeros(n, dtype=torch.bool, device=x.device)
        passes = torch.zeros(n, dtype=torch.long, device=x.device)
        position = torch.arange(d, device=x.device)
        while True:
            active &= ~oracle.exhausted()
            if not active.any():
                break
            changed = (adv != flat_x).gather(1, order) & (position[None] >= ptr[:, None])
            more = changed.any(dim=1)
            # End of a pass: another in a new order if it reset something, else this sample is done.
            ended = active & ~more
            if ended.any():
                again = ended & improved & (passes + 1 < self.max_passes)
                active &= ~(ended & ~again)
                passes[again] += 1
                improved[ended] = False
                ptr[ended] = 0
                if again.any():
                    e = rows(again)
                    order[e] = rand((n, d), generator, flat_x)[e].argsort(dim=1)
                continue
            idx = rows(active)
            first = changed[idx].float().argmax(dim=1)
            coord = order[idx, first]
            cand = adv[idx].clone()
            cand[torch.arange(len(idx), device=x.device), coord] = flat_x[idx, coord]
            ok = oracle.adversarial(cand.reshape(len(idx), *x.shape[1:]), y, target, owner=idx)
            adv[idx[ok]] = cand[ok]
            improved[idx[ok]] = True
            ptr[idx] = first + 1
        return adv.reshape(x.shape)
