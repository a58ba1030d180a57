"""Binary search along a straight line from x to a known adversarial: the shared last step of
decision-based minimisation attacks (latent descent, transfer with line search)."""

from __future__ import annotations

import torch

from advlab.models.model import Model


def is_adversarial(model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    pred = model(x).argmax(1)
    return pred == target if target is not None else pred != y


def _mix(x: torch.Tensor, end: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return x + t.reshape(-1, *([1] * (x.ndim - 1))) * (end - x)


@torch.no_grad()
def binary_search(model: Model, x: torch.Tensor, end: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None,
                  ok: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """For rows where ``end`` is adversarial (``ok``), the point x + t(end − x) with the smallest adversarial t
    found in ``steps`` halvings; other rows return x unchanged (the caller's verification marks them failed)."""
    lo = torch.zeros(len(x), device=x.device)
    hi = torch.ones(len(x), device=x.device)
    for _ in range(steps):
        mid = (lo + hi) / 2
        adv = is_adversarial(model, _mix(x, end, mid), y, target)
        hi = torch.where(adv, mid, hi)
        lo = torch.where(adv, lo, mid)
    out = _mix(x, end, hi)
    return torch.where(ok.reshape(-1, *([1] * (x.ndim - 1))), out, x)
