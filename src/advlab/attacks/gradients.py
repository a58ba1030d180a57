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

LOSSES = ("ce", "cw")


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def margin(logits: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """z_cls − max_{j≠cls} z_j per sample: positive where ``cls`` wins."""
    own = logits.gather(1, cls[:, None]).squeeze(1)
    others = logits.scatter(1, cls[:, None], float("-inf"))
    return own - others.amax(dim=1)


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
    if target is None:
        return -margin(logits, y)
    return margin(logits, target)


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


def is_adversarial(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    pred = logits.argmax(dim=1)
    return pred == target if target is not None else pred != y
