"""DeepFool (Moosavi-Dezfooli et al., 2016): walk to the nearest linearised decision boundary.

Batched over the whole batch. Each step is one forward and ``candidates − 1``
backwards through the same graph (one per rival class, on the batch sum: samples
do not interact in eval mode), which gives every still-correct sample the
gradients of f_k = z_k − z_y for its most likely rivals k. Each sample moves to
the closest linearised boundary; the accumulated perturbation is scaled by
``1 + overshoot``, and a sample stops as soon as it is fooled.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model

# Added to each step's distance so an overshoot of 0 still crosses the boundary (as Foolbox).
_STEP_SLACK = 1e-4
_TINY = 1e-8


@ATTACKS.register("deepfool")
class DeepFool(Attack):
    """Minimal-perturbation attack in L2 or L∞; ``candidates`` rival classes (the most likely) per sample."""

    name: ClassVar[str] = "deepfool"
    minimization: ClassVar[bool] = True

    def __init__(self, norm: str = "l2", *, steps: int = 50, overshoot: float = 0.02, candidates: int = 10):
        super().__init__(norm)
        if self.norm.name not in ("l2", "linf"):
            raise ValueError(f"deepfool: norm must be 'l2' or 'linf', got {norm!r}")
        self.steps = check_positive_int(steps, "deepfool: steps", allow_none=False)
        if not isinstance(overshoot, (int, float)) or not math.isfinite(overshoot) or overshoot < 0:
            raise ValueError(f"deepfool: overshoot must be a number ≥ 0, got {overshoot!r}")
        self.overshoot = float(overshoot)
        candidates = check_positive_int(candidates, "deepfool: candidates", allow_none=False)
        if candidates < 2:
            raise ValueError(f"deepfool: candidates must be ≥ 2 (the label and at least one rival), got {candidates}")
        self.candidates = candidates

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "overshoot": self.overshoot, "candidates": self.candidates}

    def run(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: torch.Tensor | None,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        if target is not None:
            raise ValueError("deepfool: the attack is untargeted; call it without target=")
        x_adv = x.clone()
        p_total = torch.zeros_like(x)
        active = torch.arange(len(x), device=x.device)
        rivals: torch.Tensor | None = None  # (N, candidates − 1), chosen at the clean input
        for _ in range(self.steps):
            self.step_done()
            xa = x_adv[active].requires_grad_(True)
            logits = model(xa)
            ya = y[active]
            if rivals is None:
                k = min(self.candidates, logits.shape[1]) - 1
                rivals = logits.detach().scatter(1, y[:, None], float("-inf")).topk(k, dim=1).indices
            keep = (logits.detach().argmax(dim=1) == ya).nonzero().squeeze(1)
            active = active[keep]  # fooled samples stop at their current point
            if active.numel() == 0:
                break
            f, w = self._rival_gaps(logits, xa, ya, rivals[active], keep)
            step = self._step(f.to(x.dtype), w)
            p_total[active] += step
            x_adv[active] = model.bounds.clip(x[active] + (1.0 + self.overshoot) * p_total[active])
        return x_adv

    @staticmethod
    def _rival_gaps(
        logits: torch.Tensor, xa: torch.Tensor, y: torch.Tensor, rivals: torch.Tensor, keep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f (n, m) = z_rival − z_y and their input gradients w (n, m, *shape) for the rows ``keep``."""
        m = rivals.shape[1]
        grads = []
        for j in range(m):
            seed = torch.zeros_like(logits)
            seed[keep, rivals[:, j]] = 1.0
            seed[keep, y[keep]] -= 1.0
            (g,) = torch.autograd.grad(logits, xa, grad_outputs=seed, retain_graph=j < m - 1)
            grads.append(g[keep])
        z = logits.detach()[keep]
        f = z.gather(1, rivals) - z.gather(1, y[keep][:, None])
        return f, torch.stack(grads, dim=1)

    def _step(self, f: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Move to the nearest linearised boundary: distance |f_k| / ‖w_k‖_dual, for the best k."""
        dual = self.norm.dual(w, dim=2)
        dist = f.abs() / (dual + _TINY)
        best = dist.argmin(dim=1)
        rows = torch.arange(len(f), device=f.device)
        d = dist[rows, best] + _STEP_SLACK
        wb = w[rows, best]
        # The step of dual-norm length d along the norm's steepest direction of w.
        return d.reshape((-1,) + (1,) * (wb.ndim - 1)) * self.norm.steepest(wb)
