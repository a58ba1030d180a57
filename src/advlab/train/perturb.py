"""Small L∞ perturbation steps for training methods.

``train`` sits below ``attacks`` in the layering, so robust training crafts its
own FGSM/PGD steps here. Gradients are taken with ``torch.autograd.grad`` with
respect to the input only: crafting never touches the weights' ``.grad``.
Randomness comes from torch's global generator, which ``fit`` seeds and
checkpoints, so a seeded (or resumed) run repeats exactly.
"""

from __future__ import annotations

import math
from numbers import Real

import torch
import torch.nn.functional as F

from advlab.models.model import Model


def check_eps(value: object, what: str, *, positive: bool = False) -> float:
    """A finite real number ≥ 0 (or > 0 with ``positive``), as a float."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    v = float(value)
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{what} must be {'positive' if positive else '≥ 0'}, got {v}")
    return v


def check_fraction(value: object, what: str) -> float:
    v = check_eps(value, what)
    if v > 1:
        raise ValueError(f"{what} must lie in [0, 1], got {v}")
    return v


def check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


class Box:
    """The model's bounds on the batch's device, fetched once per batch (not once per step)."""

    def __init__(self, model: Model, like: torch.Tensor):
        self.lower = model.bounds.lower.to(like.device, like.dtype)
        self.upper = model.bounds.upper.to(like.device, like.dtype)

    def clip(self, x: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(x, self.upper), self.lower)

    def project(self, x_new: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
        """Into the L∞ ball of radius ``eps`` around ``x``, then into the box (stays in the ball: x is in the box)."""
        return self.clip(x + (x_new - x).clamp(-eps, eps))


def uniform_noise(x: torch.Tensor, eps: float) -> torch.Tensor:
    """U(−ε, ε) per coordinate."""
    return (torch.rand_like(x) * 2 - 1) * eps


def sign_noise(x: torch.Tensor, eps: float) -> torch.Tensor:
    """±ε per coordinate, each sign with probability 1/2."""
    return (torch.randint_like(x, 0, 2) * 2 - 1) * eps


def loss_gradient_and_logits(model: Model, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇ₓ cross-entropy, logits) at ``x``: one forward and one backward to the input only."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, y), x)
    return grad, logits.detach()


def loss_gradient(model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇ₓ of the cross-entropy at ``x``: one forward and one backward to the input only."""
    return loss_gradient_and_logits(model, x, y)[0]


def sign_step(model: Model, box: Box, x_start: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
              step: float, eps: float) -> torch.Tensor:
    """One L∞ ascent step from ``x_start``: + step·sign(∇), projected into the ε-ball around ``x`` and the box."""
    grad = loss_gradient(model, x_start, y)
    return box.project(x_start.detach() + step * grad.sign(), x, eps)
