"""Small digits models for the evaluation tests: a standard MLP and one whose gradients are masked."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advlab.data import load
from advlab.models import Model, build, wrap
from advlab.train import fit


@pytest.fixture(scope="session")
def digits_model() -> tuple[Model, torch.Tensor, torch.Tensor]:
    """A seeded MLP trained on the embedded digits, and the first 100 test inputs and labels."""
    ds = load("digits", quiet=True)
    torch.manual_seed(0)
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[32])
    fit(model, ds, epochs=8, lr=3e-3, quiet=True, seed=0)
    return model.eval(), ds.x_test[:100], ds.y_test[:100]


class Binarised(nn.Module):
    """Rounds its inputs to 0/1 before the network: zero gradients everywhere (a classic masking defence)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.round(x))


@pytest.fixture(scope="session")
def binarised_model(digits_model) -> Model:
    model, x, _ = digits_model
    return wrap(Binarised(model.net), bounds=(0, 1), classes=10, input_shape=tuple(x.shape[1:]))
