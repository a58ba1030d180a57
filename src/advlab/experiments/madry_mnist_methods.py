"""Wong, Rice & Kolter's MNIST training steps, exactly as their code (``fast_adversarial/MNIST/train_mnist.py``) does them.

They differ from advlab's ``FastFGSM`` / ``PGDAdversarial`` in two details that
matter on MNIST at ε = 0.3 (measured in madry-mnist):

* fast FGSM: the random start δ₀ ~ U(−ε, ε) is *not* clipped into [0, 1] before
  the gradient is taken; only the final δ = clamp(δ₀ + α·sign ∇, −ε, ε) is. With
  α = 1.25·ε, clamp keeps part of δ₀'s randomness on the black background (a
  pixel at 0 ends anywhere in [0.075, 0.3] or at 0), while clipping the start
  first sends every such pixel to exactly 0 or 0.3: deterministic FGSM corners.
* PGD: a sample stops moving once it is misclassified (their mask ``I``), so at
  the start of training, when almost nothing is classified correctly, the model
  sees mostly randomly perturbed inputs and can leave the constant-prediction
  plateau that plain PGD training (Madry's loop) sticks in on this small CNN.

Both are experiment-local on purpose: the library's methods are unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from advlab.models.model import Model
from advlab.train.methods import BatchLoss, TrainingMethod


def _input_grad(model: Model, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇ₓ cross-entropy, logits) at ``x``."""
    x = x.detach().requires_grad_(True)
    logits = model(x)
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, y), x)
    return grad, logits.detach()


class WongFastFGSM(TrainingMethod):
    """One FGSM step of α from an *unclipped* U(−ε, ε) start; the final δ is clamped to the ε-ball and [0, 1]."""

    name = "fast-wong-mnist"
    default_schedule = "cyclic"

    def __init__(self, eps: float, alpha: float):
        self.eps, self.alpha = float(eps), float(alpha)

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "step": self.alpha, "start_clipped": False}

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        delta = (torch.rand_like(x) * 2 - 1) * self.eps
        grad, _ = _input_grad(model, x + delta, y)
        delta = (delta + self.alpha * grad.sign()).clamp(-self.eps, self.eps)
        x_adv = (x + delta).clamp(0.0, 1.0)
        logits = model(x_adv)
        return BatchLoss(F.cross_entropy(logits, y), logits)


class WongPGD(TrainingMethod):
    """PGD from a clipped U(−ε, ε) start; a sample stops moving once the model misclassifies it."""

    name = "pgd-wong-mnist"

    def __init__(self, eps: float, steps: int, stepsize: float):
        self.eps, self.steps, self.stepsize = float(eps), int(steps), float(stepsize)

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "steps": self.steps, "stepsize": self.stepsize, "stop_when_fooled": True}

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        x = x.detach()
        x_adv = (x + (torch.rand_like(x) * 2 - 1) * self.eps).clamp(0.0, 1.0)
        for _ in range(self.steps):
            grad, logits = _input_grad(model, x_adv, y)
            still_right = (logits.argmax(1) == y).view(-1, *([1] * (x.dim() - 1)))
            moved = x + (x_adv + self.stepsize * grad.sign() - x).clamp(-self.eps, self.eps)
            x_adv = torch.where(still_right, moved.clamp(0.0, 1.0), x_adv)
        logits = model(x_adv)
        return BatchLoss(F.cross_entropy(logits, y), logits)
