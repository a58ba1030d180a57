"""Tiny models whose fooling answers are known in closed form."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advlab.models import Model, wrap


def linear_model(classes: int = 3, shape: tuple[int, ...] = (1, 4, 4), scale: float = 3.0, seed: int = 0) -> Model:
    """Softmax regression with large random weights: every class reaches p > 0.999 at a corner of [0, 1]^d."""
    gen = torch.Generator().manual_seed(seed)
    d = int(torch.tensor(shape).prod())
    lin = nn.Linear(d, classes)
    with torch.no_grad():
        lin.weight.copy_(scale * torch.randn(classes, d, generator=gen))
        lin.bias.zero_()
    return wrap(nn.Sequential(nn.Flatten(), lin), bounds=(0.0, 1.0), classes=classes, input_shape=shape).eval()


def best_corner(model: Model, k: int) -> torch.Tensor:
    """The corner of the box that maximises min_j (z_k − z_j) for a linear model (x_i = 1 where w_k − mean w > 0)."""
    w = model.net[1].weight.detach()
    return ((w[k] - w.mean(0)) > 0).float().view(model.input_shape)


@pytest.fixture
def linear() -> Model:
    return linear_model()
