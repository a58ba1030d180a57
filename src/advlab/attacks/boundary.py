"""Boundary attack (Brendel, Rauber & Bethge, ICLR 2018): a random walk along the decision boundary (L2).

Start from an adversarial (blended uniform noise, bisected back towards ``x``). Each step
draws a Gaussian direction (one draw per step, shared by the batch), made orthogonal per sample to ``x − adv`` scaled to
``spherical_step·‖x − adv‖``, projects it back onto the sphere around ``x`` (Pythagoras),
then moves towards ``x`` by ``source_step·‖x − adv‖``; the candidate replaces the current
adversarial when it is adversarial and closer. Every ``stats_every`` steps the spherical
candidate alone is queried too; the two step sizes adapt per sample to the success rates
(spherical > 50 %: both grow, < 20 %: both shrink; full step > 25 %: source grows,
< 10 %: shrinks), as in the paper and Foolbox 3. Untargeted unless ``target`` is given
(then the start is noise drawn in the target class, which may fail).
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks.blended import blended_start
from advlab.attacks.query import QueryAttack, randn, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int


class _Stats:
    """Per-sample ring buffers of the last ``size`` outcomes (success rate once full)."""

    def __init__(self, n: int, size: int, device: torch.device):
        self.data = torch.zeros(n, size, device=device)
        self.count = torch.zeros(n, dtype=torch.long, device=device)
        self.size = size

    def add(self, idx: torch.Tensor, value: torch.Tensor) -> None:
        self.data[idx, self.count[idx] % self.size] = value.float()
        self.count[idx] += 1

    def full(self) -> torch.Tensor:
        return self.count >= self.size

    def mean(self) -> torch.Tensor:
        return self.data.mean(dim=1)

    def clear(self, mask: torch.Tensor) -> None:
        self.count[mask] = 0


@ATTACKS.register("boundary")
class Boundary(QueryAttack):
    """``Boundary(steps=25000, spherical_step=0.01, source_step=0.01, step_adaptation=1.5, max_queries=None)``: L2 minimisation."""

    name = "boundary"
    minimization = True

    def __init__(
        self,
        norm: str = "l2",
        steps: int = 25000,
        spherical_step: float = 1e-2,
        source_step: float = 1e-2,
        step_adaptation: float = 1.5,
        stats_every: int = 10,
        init_directions: int = 1000,
        max_queries: int | None = None,
    ):
        super().__init__(norm, max_queries)
        if self.norm.name != "l2":
            raise ValueError(f"boundary: the Boundary attack is an L2 attack, got norm {norm!r}")
        self.steps: int = check_positive_int(steps, "boundary: steps", allow_none=False) or 1
        self.spherical_step = check_positive_float(spherical_step, "boundary: spherical_step")
        self.source_step = check_positive_float(source_step, "boundary: source_step")
        self.step_adaptation = check_positive_float(step_adaptation, "boundary: step_adaptation")
        self.stats_every: int = check_positive_int(stats_every, "boundary: stats_every", allow_none=False) or 1
        self.init_directions: int = check_positive_int(init_directions, "boundary: init_directions", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {
            "steps": self.steps, "spherical_step": self.spherical_step, "source_step": self.source_step,
            "step_adaptation": self.step_adaptation, "stats_every": self.stats_every,
        }

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        n, dev = len(x), x.device
        best, found = blended_start(oracle, x, y, target, generator, self.init_directions)
        sph = torch.full((n,), self.spherical_step, device=dev)
        src = torch.full((n,), self.source_step, device=dev)
        sph_stats, step_stats = _Stats(n, 100, dev), _Stats(n, 30, dev)
        adapt = self.step_adaptation
        for step in range(1, self.steps + 1):
            idx = rows(found & ~oracle.exhausted())
            if not len(idx):
                break
            everyone = len(idx) == n
            xi, bi = (x, best) if everyone else (x[idx], best[idx])
            cand, spherical, dist = self._proposals(oracle, xi, bi, sph[idx], src[idx], generator)
            check = step % self.stats_every == 0
            if check:
                # Both candidates of a sample in one call: the full candidate first, so a spent budget
                # refuses the statistics query, never the step.
                both = torch.cat([cand, spherical])
                adv_both = oracle.adversarial(both, y, target, owner=torch.cat([idx, idx]))
                adv, sph_adv = adv_both[: len(idx)], adv_both[len(idx) :]
            else:
                adv = oracle.adversarial(cand, y, target, owner=idx)
            take = adv & (self.norm.distance(cand - xi) < dist)
            best[idx[take]] = cand[take]
            step_stats.add(idx, adv)
            if check:
                sph_stats.add(idx, sph_adv)
                full, rate = sph_stats.full(), sph_stats.mean()
                up, down = full & (rate > 0.5), full & (rate < 0.2)
                sph = torch.where(up, sph * adapt, torch.where(down, sph / adapt, sph))
                src = torch.where(up, src * adapt, torch.where(down, src / adapt, src))
                sph_stats.clear(up | down)
                full, rate = step_stats.full(), step_stats.mean()
                up, down = full & (rate > 0.25), full & (rate < 0.1)
                src = torch.where(up, src * adapt, torch.where(down, src / adapt, src))
                step_stats.clear(up | down)
        return best

    def _proposals(self, oracle, x, adv, sph, src, generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(full candidate, spherical candidate, ‖x − adv‖) for each row."""
        flat_x = x.flatten(1)
        to_x = flat_x - adv.flatten(1)
        dist = to_x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        unit = to_x / dist
        # One Gaussian draw per step, shared by the batch (as Foolbox 3 does): each sample's walk is
        # still driven by independent Gaussians from step to step; samples are separate problems.
        eta = randn((1, flat_x.shape[1]), generator, flat_x)
        eta = eta - (unit @ eta[0])[:, None] * unit
        eta = eta * (sph[:, None] * dist / eta.norm(dim=1, keepdim=True).clamp_min(1e-12))
        spherical = oracle.bounds.clip((flat_x + (eta - to_x) / (sph[:, None].square() + 1).sqrt()).reshape(x.shape))
        towards = flat_x - spherical.flatten(1)
        length = towards.norm(dim=1, keepdim=True).clamp_min(1e-12)
        # End at distance ‖x − adv‖·(1 − source_step) from x (correcting the sphere's numerical drift).
        keep = torch.minimum(dist * (1 - src[:, None]).clamp_min(0), length) / length
        cand = oracle.bounds.clip((flat_x - towards * keep).reshape(x.shape))
        return cand, spherical, dist[:, 0]
