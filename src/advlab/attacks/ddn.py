"""Decoupled direction and norm (Rony et al., CVPR 2019): a minimal L2 attack.

The direction comes from a normalised gradient step on the cross-entropy
(away from the label, or towards the target); the norm is decided separately:
δ is rescaled to lie exactly on the sphere of radius ε, and ε shrinks by
(1 − γ) while the point is adversarial and grows by (1 + γ) otherwise. The step
size is cosine-annealed; the smallest adversarial seen is kept.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from advlab.attacks.fmn import cosine_schedule
from advlab.attacks.margins import input_logits, is_adversarial, keep_best, widest_perturbation
from advlab.attacks.minimal import MinimalAttack
from advlab.attacks.norms import per_sample
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int
from advlab.models.model import Model


@ATTACKS.register("ddn")
class DDN(MinimalAttack):
    """``DDN(steps=100, init_epsilon=1.0, gamma=0.05, alpha_init=1.0, alpha_final=0.01, levels=None)``.

    ``levels`` quantises the adversarial to that many values per coordinate between
    the bounds after each step (the paper's 256 for 8-bit images); None keeps floats.
    """

    name = "ddn"

    def __init__(
        self,
        steps: int = 100,
        init_epsilon: float = 1.0,
        gamma: float = 0.05,
        alpha_init: float = 1.0,
        alpha_final: float = 0.01,
        levels: int | None = None,
    ):
        super().__init__("l2")
        self.steps = check_positive_int(steps, "DDN: steps", allow_none=False)
        self.levels = check_positive_int(levels, "DDN: levels")
        if self.levels == 1:
            raise ValueError("DDN: levels must be at least 2 (or None), got 1")
        self.init_epsilon = check_positive_float(init_epsilon, "DDN: init_epsilon")
        self.alpha_init = check_positive_float(alpha_init, "DDN: alpha_init")
        self.alpha_final = check_positive_float(alpha_final, "DDN: alpha_final")
        if not 0 < float(gamma) < 1:
            raise ValueError(f"DDN: gamma must be in (0, 1), got {gamma!r}")
        self.gamma = float(gamma)

    def params(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "init_epsilon": self.init_epsilon,
            "gamma": self.gamma,
            "alpha_init": self.alpha_init,
            "alpha_final": self.alpha_final,
            "levels": self.levels,
        }

    def minimise(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        n = len(x)
        worst = self.norm.distance(widest_perturbation(model, x))
        radius = torch.full((n,), self.init_epsilon, device=x.device)
        delta = torch.zeros_like(x)
        best, best_dist = x.clone(), torch.full((n,), math.inf, device=x.device)
        # Untargeted: climb the label's cross-entropy; targeted: descend the target's.
        sign, cls = (1.0, y) if target is None else (-1.0, target)
        for step in range(self.steps):
            self.step_done()
            alpha = cosine_schedule(self.alpha_init, self.alpha_final, step, self.steps)
            x_adv = (x + delta).requires_grad_(True)
            logits = input_logits(model, x_adv)
            loss = sign * F.cross_entropy(logits, cls, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x_adv)
            with torch.no_grad():
                ok = is_adversarial(logits, y, target)
                best, best_dist = keep_best(best, best_dist, x_adv.detach(), self.norm.distance(delta), ok)
                grad_norm = self.norm.distance(grad)
                flat = grad_norm < 1e-12
                if flat.any():
                    # A vanishing gradient gives no direction: take a random one (seeded).
                    noise = torch.randn(grad.shape, generator=generator, dtype=grad.dtype).to(grad.device)
                    grad = torch.where(flat.reshape(-1, *([1] * (grad.ndim - 1))), noise, grad)
                    grad_norm = self.norm.distance(grad)
                delta = delta + alpha * grad / per_sample(grad_norm, grad)
                radius = torch.minimum(radius * torch.where(ok, 1 - self.gamma, 1 + self.gamma), worst)
                delta = delta * per_sample(radius / self.norm.distance(delta).clamp_min(1e-12), delta)
                delta = self._quantised(model, x + delta) - x
        return best

    def _quantised(self, model: Model, x_adv: torch.Tensor) -> torch.Tensor:
        x_adv = model.bounds.clip(x_adv)
        if self.levels is None:
            return x_adv
        lo, hi = model.bounds.lower.to(x_adv), model.bounds.upper.to(x_adv)
        steps = self.levels - 1
        return lo + ((x_adv - lo) / (hi - lo) * steps).round() / steps * (hi - lo)
