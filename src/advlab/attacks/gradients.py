"""Attack objectives and their input gradients: one forward and one backward per call.

Every objective is written to be *maximised*, per sample: untargeted attacks push
the true class down, targeted attacks pull the target up. Losses are summed over
the batch before differentiating; in eval mode the samples do not interact, so
each sample gets exactly its own gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advlab.attacks.margins import is_adversarial, logit_margin

__all__ = ["LOSSES", "check_loss", "is_adversarial", "margin", "objective", "objective_grad",
           "objective_grad_and_logits", "summed_objective"]

LOSSES = ("ce", "cw")


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def margin(logits: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """z_cls − max_{j≠cls} z_j per sample: positive where ``cls`` wins (``margins.logit_margin``)."""
    return logit_margin(logits, cls)


def objective(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str) -> torch.Tensor:
    """The per-sample quantity an attack ascends.

    ``ce``: cross-entropy of the label (untargeted) or minus that of the target.
    ``cw``: the Carlini–Wagner margin, −margin(y) (untargeted) or margin(target);
    positive exactly when the attack succeeds.
    """
    if loss == "ce":
        if target is None:
            return F.cross_entropy(logits, y, reduction="none")
        return -F.cross_entropy(logits, target, reduction="none")
    return -logit_margin(logits, y, target)


def summed_objective(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str) -> torch.Tensor:
    """``objective(...).sum()``, with the reduction fused into the loss where torch can."""
    if loss == "ce":
        if target is None:
            return F.cross_entropy(logits, y, reduction="sum")
        return -F.cross_entropy(logits, target, reduction="sum")
    return objective(logits, y, target, loss).sum()


def objective_grad(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str
) -> torch.Tensor:
    """∂objective/∂x at ``x`` for every sample: one forward, one backward, for the input only."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(summed_objective(model(x), y, target, loss), x)
    return grad


def objective_grad_and_logits(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂objective/∂x, logits) at ``x`` from the same forward pass (logits detached)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        (grad,) = torch.autograd.grad(summed_objective(logits, y, target, loss), x)
    return grad, logits.detach()
