"""Fast minimum-norm attack (Pintor et al., NeurIPS 2021) in L0, L1, L2 and L∞.

Each step moves δ along the L2-normalised gradient of the logit margin (towards
the boundary), then projects δ onto the ε-ball of the chosen norm and into the
bounds. The radius ε adapts per sample: it shrinks by a factor (1 − γ) while the
point is adversarial, grows by (1 + γ) after the first success otherwise, and
before any success jumps to the linear estimate of the boundary distance,
‖δ‖ + |margin| / ‖∇margin‖_dual. Step size α and γ follow cosine schedules; the
smallest adversarial seen is kept.

Inputs still without an adversarial after ``steps`` (robust models stall FMN short of
the boundary) restart from an adversarial found by ``adversarial_start`` (APGD at a
growing radius, or the segment towards another class) and FMN shrinks it: the
paper's adversarial initialisation, used where it is needed (``adversarial_init``). In L∞
and L2 the same option also tries APGD (20 steps) at 3/4 of the distance each input's run
reached, and restarts FMN from what it finds: robust models stop FMN far outside the
boundary too (measured: a PGD-trained MNIST cnn-small kept 94% "robust" at ε 0.3 where
APGD alone left 89%).

One departure from the paper: before the first success ε grows by at least
(1 + γ) per step. Without it, coordinates clipped at the bounds (the black
background of a digit) shorten δ, the linear estimate lands back on the same ε,
and the attack stalls short of the boundary for good.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch

from advlab.attacks.adversarial_start import adversarial_start
from advlab.attacks.margins import input_logits, is_adversarial, keep_best, logit_margin, widest_perturbation
from advlab.attacks.minimal import MinimalAttack
from advlab.attacks.norms import per_sample
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int
from advlab.models.model import Model

#: Where FMN stopped at distance d (L∞/L2), APGD tries for an adversarial at REFINE·d to restart from.
REFINE = 0.75


def cosine_schedule(start: float, end: float, step: int, steps: int) -> float:
    """``start`` at step 0, annealed along half a cosine towards ``end`` at ``steps``."""
    return end + (start - end) * (1 + math.cos(math.pi * step / steps)) / 2


@ATTACKS.register("fmn")
class FMN(MinimalAttack):
    """``FMN(norm="l2", steps=100, alpha_init=1.0, alpha_final=None (α/100), gamma_init=0.05, gamma_final=0.001, adversarial_init=True)``."""

    name = "fmn"

    def __init__(
        self,
        norm: str = "l2",
        steps: int = 100,
        alpha_init: float = 1.0,
        alpha_final: float | None = None,
        gamma_init: float = 0.05,
        gamma_final: float = 0.001,
        adversarial_init: bool = True,
    ):
        super().__init__(norm)
        self.steps = cast(int, check_positive_int(steps, "FMN: steps", allow_none=False))
        self.alpha_init = check_positive_float(alpha_init, "FMN: alpha_init")
        self.alpha_final = self.alpha_init / 100 if alpha_final is None else check_positive_float(alpha_final, "FMN: alpha_final")
        self.gamma_init = _fraction(gamma_init, "gamma_init")
        self.gamma_final = _fraction(gamma_final, "gamma_final")
        self.adversarial_init = bool(adversarial_init)

    def params(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "alpha_init": self.alpha_init,
            "alpha_final": self.alpha_final,
            "gamma_init": self.gamma_init,
            "gamma_final": self.gamma_final,
            "adversarial_init": self.adversarial_init,
        }

    def minimise(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        n = len(x)
        best, best_dist = self._descend(model, x, y, target, torch.zeros_like(x), torch.zeros(n, dtype=torch.bool, device=x.device))
        missing = ~torch.isfinite(best_dist)
        if self.adversarial_init and missing.any():
            # Robust models stall FMN short of the boundary: restart those inputs from an adversarial
            # (the paper's adversarial initialisation) and let FMN shrink it.
            idx = missing.nonzero().squeeze(1)
            t = None if target is None else target[idx]
            init, ok = adversarial_start(model, x[idx], y[idx], t, self.norm.name, generator)
            if ok.any():
                sub = idx[ok]
                t2 = None if t is None else t[ok]
                b2, d2 = self._descend(model, x[sub], y[sub], t2, init[ok] - x[sub], torch.ones(len(sub), dtype=torch.bool, device=x.device))
                best[sub], best_dist[sub] = b2, d2
        if self.adversarial_init and self.norm.name in ("linf", "l2"):
            best, best_dist = self._refine(model, x, y, target, best, best_dist, ~missing, generator)
        return best

    def _refine(self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, best: torch.Tensor,
                best_dist: torch.Tensor, which: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """On robust models FMN can also stop far outside the boundary: where APGD finds an adversarial at
        ``REFINE`` × the distance FMN reached, restart FMN from it and keep the smaller."""
        from advlab.attacks.apgd import APGD

        idx = (which & torch.isfinite(best_dist) & (best_dist > 0)).nonzero().squeeze(1)
        if idx.numel() == 0:
            return best, best_dist
        t = None if target is None else target[idx]
        adv, hit, _ = APGD(self.norm.name, steps=20).descend(model, x[idx], y[idx], REFINE * best_dist[idx], t, t, generator)
        if hit.any():
            sub = idx[hit]
            t2 = None if t is None else t[hit]
            b2, d2 = self._descend(model, x[sub], y[sub], t2, adv[hit] - x[sub], torch.ones(len(sub), dtype=torch.bool, device=x.device))
            better = d2 < best_dist[sub]
            best[sub[better]], best_dist[sub[better]] = b2[better], d2[better]
        return best, best_dist

    def _descend(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, delta: torch.Tensor, found: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """FMN's loop from ``x + delta``; ``found`` marks inputs whose start is already adversarial
        (their radius starts at ‖delta‖ and shrinks). Returns the best adversarials and their distances."""
        n, norm, l0 = len(x), self.norm, self.norm.discrete
        start = norm.distance(delta)
        if l0:
            worst = torch.full((n,), float(x[0].numel()), device=x.device)
            radius = torch.where(found, start, torch.ones(n, device=x.device))
        else:
            worst = norm.distance(widest_perturbation(model, x))
            radius = torch.where(found, start, torch.zeros(n, device=x.device))  # else the first step sets it
        found = found.clone()
        best, best_dist = x.clone(), torch.full((n,), math.inf, device=x.device)
        for step in range(self.steps):
            self.step_done()
            alpha = cosine_schedule(self.alpha_init, self.alpha_final, step, self.steps)
            gamma = cosine_schedule(self.gamma_init, self.gamma_final, step, self.steps)
            x_adv = (x + delta).requires_grad_(True)
            logits = input_logits(model, x_adv)
            margin = logit_margin(logits, y, target)
            (grad,) = torch.autograd.grad(margin.sum(), x_adv)
            with torch.no_grad():
                size = norm.distance(delta)
                ok = is_adversarial(logits, y, target)
                found |= ok
                best, best_dist = keep_best(best, best_dist, x_adv.detach(), size, ok)
                if l0:
                    shrink = torch.minimum(torch.minimum(radius - 1, (radius * (1 - gamma)).floor()), best_dist)
                    radius = torch.where(ok, shrink, torch.maximum(radius + 1, (radius * (1 + gamma)).floor())).clamp_min(0)
                else:
                    dual = norm.dual(grad)
                    to_boundary = margin.abs() / dual.clamp_min(1e-12)
                    # Before the first success the paper jumps to the linear estimate; we never let that
                    # be less than a (1 + γ) growth, or clipping at the bounds can pin ε below the boundary.
                    grown = radius * (1 + gamma)
                    grown = torch.where(found, grown, torch.maximum(size + to_boundary, grown))
                    radius = torch.where(ok, torch.minimum(radius * (1 - gamma), best_dist), grown)
                radius = torch.minimum(radius, worst)
                # Descend the margin along its L2-normalised gradient, as in the paper, for every norm.
                step_dir = grad / per_sample(torch.linalg.vector_norm(grad.flatten(1), dim=1).clamp_min(1e-12), grad)
                delta = norm.project(delta - alpha * step_dir, radius)
                delta = model.bounds.clip(x + delta) - x
        # The last iterate was never checked inside the loop.
        with torch.no_grad():
            last = x + delta
            ok = is_adversarial(input_logits(model, last), y, target)
            best, best_dist = keep_best(best, best_dist, last, norm.distance(delta), ok)
        return best, best_dist


def _fraction(value: float, what: str) -> float:
    if not 0 <= float(value) < 1:
        raise ValueError(f"FMN: {what} must be in [0, 1), got {value!r}")
    return float(value)
