"""Maxout networks (Goodfellow et al., 2013): each hidden unit is the max of ``pieces`` linear pieces."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from advlab.models.layers import Classifier, Normalize
from advlab.models.registry import MODELS


class Maxout(nn.Module):
    """``units`` outputs, each max over ``pieces`` affine functions of the input (one Linear underneath)."""

    def __init__(self, in_features: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)

    def extra_repr(self) -> str:
        return f"units={self.units}, pieces={self.pieces}"


def _check_rate(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"maxout: {what} must be a probability in [0, 1), got {value!r}")
    return float(value)


@MODELS.register("maxout")
def maxout(
    input_shape: tuple[int, ...],
    num_classes: int,
    units: int = 240,
    pieces: int = 5,
    layers: int = 2,
    dropout: float = 0.5,
    input_dropout: float = 0.2,
    mean: float | Sequence[float] = 0.0,
    std: float | Sequence[float] = 1.0,
) -> nn.Module:
    """maxout MLP (Goodfellow et al.'s MNIST net): layers × units × pieces, dropout 0.2 input / 0.5 hidden; units=1600 for the big one

    Permutation-invariant maxout MLP with a softmax output layer.
    The paper's max-norm weight constraint is not part of the model (it belongs
    to the optimiser); dropout is active in train mode only, as usual.
    """
    for what, value in {"units": units, "pieces": pieces, "layers": layers}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"maxout: {what} must be a positive integer, got {value!r}")
    p_hidden, p_input = _check_rate(dropout, "dropout"), _check_rate(input_dropout, "input_dropout")
    d = math.prod(input_shape)
    body: list[nn.Module] = [Normalize(mean, std, ndim=len(input_shape)), nn.Flatten(), nn.Dropout(p_input)]
    for _ in range(layers):
        body += [Maxout(d, units, pieces), nn.Dropout(p_hidden)]
        d = units
    return Classifier(nn.Sequential(*body), nn.Linear(d, num_classes))
