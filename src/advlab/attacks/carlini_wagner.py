"""Carlini & Wagner's L2 attack (2017), with a batched per-sample binary search over the constant c.

Minimise ‖x' − x‖² + c·f(x') over x' = box(w), a tanh map of the free variable w
into the model's bounds (so no clipping is ever needed), with Adam on w, where
f = max(margin, −κ) and the margin is ``Z_y − max_{j≠y} Z_j`` (targeted:
``max_{j≠t} Z_j − Z_t``). Each sample has its own c: it halves towards the last
failure after a success and grows tenfold after a failure until a success
brackets it, so users need not tune it. The smallest successful x' over all
constants is kept.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from advlab.attacks.margins import input_logits, keep_best, logit_margin
from advlab.attacks.minimal import MinimalAttack
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int
from advlab.models.model import Model

# Adam's moment decay rates and denominator guard (Kingma & Ba's defaults, as in the paper).
_BETA1, _BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8
# Keeps atanh finite for inputs lying exactly on a bound.
_TANH_SHRINK = 1 - 1e-6


@ATTACKS.register("cw")
class CarliniWagner(MinimalAttack):
    """``CarliniWagner(steps=1000, binary_search_steps=9, initial_const=1e-2, confidence=0.0, lr=0.01)``.

    ``abort_early`` stops a sample's inner optimisation once its loss has stopped
    improving (checked every ``steps // 10`` steps); stopped samples leave the batch.
    """

    name = "cw"

    def __init__(
        self,
        steps: int = 1000,
        binary_search_steps: int = 9,
        initial_const: float = 1e-2,
        confidence: float = 0.0,
        lr: float = 0.01,
        abort_early: bool = True,
    ):
        super().__init__("l2")
        self.steps = check_positive_int(steps, "CarliniWagner: steps", allow_none=False)
        self.binary_search_steps = check_positive_int(binary_search_steps, "CarliniWagner: binary_search_steps", allow_none=False)
        self.initial_const = check_positive_float(initial_const, "CarliniWagner: initial_const")
        self.lr = check_positive_float(lr, "CarliniWagner: lr")
        if not math.isfinite(float(confidence)) or float(confidence) < 0:
            raise ValueError(f"CarliniWagner: confidence must be a finite number ≥ 0, got {confidence!r}")
        self.confidence = float(confidence)
        self.abort_early = bool(abort_early)

    def params(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "binary_search_steps": self.binary_search_steps,
            "initial_const": self.initial_const,
            "confidence": self.confidence,
            "lr": self.lr,
            "abort_early": self.abort_early,
        }

    # --- the binary search over c -------------------------------------------------------------
    def minimise(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        n = len(x)
        lo, hi = model.bounds.lower.to(x), model.bounds.upper.to(x)
        unit = ((x - lo) / (hi - lo) * 2 - 1).clamp(-1, 1) * _TANH_SHRINK
        w0 = torch.atanh(unit)
        const = torch.full((n,), self.initial_const, device=x.device)
        c_low = torch.zeros(n, device=x.device)
        c_high = torch.full((n,), math.inf, device=x.device)
        best, best_dist = x.clone(), torch.full((n,), math.inf, device=x.device)
        for _ in range(self.binary_search_steps):
            found, best, best_dist = self._optimise(model, x, y, target, w0, lo, hi, const, best, best_dist)
            c_high = torch.where(found, torch.minimum(c_high, const), c_high)
            c_low = torch.where(found, c_low, torch.maximum(c_low, const))
            const = torch.where(torch.isfinite(c_high), (c_low + c_high) / 2, const * 10)
        return best

    # --- Adam on w for one constant per sample ----------------------------------------------------
    def _optimise(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        target: torch.Tensor | None,
        w0: torch.Tensor,
        lo: torch.Tensor,
        hi: torch.Tensor,
        const: torch.Tensor,
        best: torch.Tensor,
        best_dist: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = len(x)
        w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
        active = torch.ones(n, dtype=torch.bool, device=x.device)
        found = torch.zeros(n, dtype=torch.bool, device=x.device)
        prev_loss = torch.full((n,), math.inf, device=x.device)
        check_every = max(self.steps // 10, 1)
        for step in range(self.steps):
            self.step_done()
            idx = active.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            wi = w[idx].requires_grad_(True)
            xi = x[idx]
            x_adv = lo + (hi - lo) * (torch.tanh(wi) + 1) / 2
            margin = logit_margin(input_logits(model, x_adv), y[idx], None if target is None else target[idx])
            dist_sq = (x_adv - xi).flatten(1).pow(2).sum(dim=1)
            loss = dist_sq + const[idx] * margin.clamp_min(-self.confidence)
            (grad,) = torch.autograd.grad(loss.sum(), wi)
            with torch.no_grad():
                # Success needs the κ-margin, as in the paper; κ = 0 still implies a changed arg-max.
                ok = margin < -self.confidence
                found[idx] |= ok
                best[idx], best_dist[idx] = keep_best(best[idx], best_dist[idx], x_adv.detach(), dist_sq.sqrt(), ok)
                t = step + 1
                mi = _BETA1 * m[idx] + (1 - _BETA1) * grad
                vi = _BETA2 * v[idx] + (1 - _BETA2) * grad * grad
                m[idx], v[idx] = mi, vi
                update = (mi / (1 - _BETA1**t)) / ((vi / (1 - _BETA2**t)).sqrt() + _ADAM_EPS)
                w[idx] = wi.detach() - self.lr * update
                if self.abort_early and step % check_every == 0:
                    prev = prev_loss[idx]
                    # Stalled: less than 0.01% better than at the last check.
                    stalled = torch.isfinite(prev) & (loss >= prev - 1e-4 * prev.abs())
                    prev_loss[idx] = loss.detach()
                    active[idx[stalled]] = False
        return found, best, best_dist
