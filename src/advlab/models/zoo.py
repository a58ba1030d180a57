"""The classic architectures: softmax regression, MLPs (with a bottleneck) and two MNIST CNNs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from advlab.models.layers import Classifier, Normalize, make_activation
from advlab.models.registry import MODELS

Norm = float | Sequence[float]


def _normalize(input_shape: tuple[int, ...], mean: Norm, std: Norm) -> Normalize:
    return Normalize(mean, std, ndim=len(input_shape))


@MODELS.register("softmax")
def softmax(input_shape: tuple[int, ...], num_classes: int, mean: Norm = 0.0, std: Norm = 1.0) -> nn.Module:
    """multinomial logistic regression: one linear layer on the flattened input"""
    d = math.prod(input_shape)
    return Classifier(nn.Sequential(_normalize(input_shape, mean, std), nn.Flatten()), nn.Linear(d, num_classes))


@MODELS.register("mlp")
def mlp(
    input_shape: tuple[int, ...],
    num_classes: int,
    widths: Sequence[int] = (100,),
    activation: str = "relu",
    bottleneck: int | None = None,
    mean: Norm = 0.0,
    std: Norm = 1.0,
) -> nn.Module:
    """fully connected network; widths=[…], activation, optional linear bottleneck=k units"""
    widths = [int(w) for w in widths]
    if any(w < 1 for w in widths) or (bottleneck is not None and bottleneck < 1):
        raise ValueError(f"mlp: widths must be positive integers, got widths={widths} bottleneck={bottleneck}")
    layers: list[nn.Module] = [_normalize(input_shape, mean, std), nn.Flatten()]
    d = math.prod(input_shape)
    for w in widths:
        layers += [nn.Linear(d, w), make_activation(activation)]
        d = w
    if bottleneck is not None:
        # Linear (no activation) so the k-D hidden space is unbounded and drawable.
        layers.append(nn.Linear(d, int(bottleneck)))
        d = int(bottleneck)
    return Classifier(nn.Sequential(*layers), nn.Linear(d, num_classes))


def _flat_size(features: nn.Module, input_shape: tuple[int, ...]) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, *input_shape)).shape[1])


def _require_image(name: str, input_shape: tuple[int, ...]) -> None:
    if len(input_shape) != 3:
        raise ValueError(f"{name}: expected an image input shape (C, H, W), got {input_shape}")


@MODELS.register("cnn-small")
def cnn_small(input_shape: tuple[int, ...], num_classes: int, mean: Norm = 0.0, std: Norm = 1.0) -> nn.Module:
    """conv 16 4x4/2 → conv 32 4x4/2 → fc 100 → fc k (Wong et al.'s fast-AT MNIST net)"""
    _require_image("cnn-small", input_shape)
    c = input_shape[0]
    conv = nn.Sequential(
        _normalize(input_shape, mean, std),
        nn.Conv2d(c, 16, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
    )
    n = _flat_size(conv, input_shape)
    return Classifier(nn.Sequential(*conv, nn.Linear(n, 100), nn.ReLU()), nn.Linear(100, num_classes))


@MODELS.register("cnn-madry")
def cnn_madry(input_shape: tuple[int, ...], num_classes: int, mean: Norm = 0.0, std: Norm = 1.0) -> nn.Module:
    """conv 32 5x5 + pool → conv 64 5x5 + pool → fc 1024 → fc k (Madry et al.'s MNIST net)"""
    _require_image("cnn-madry", input_shape)
    c = input_shape[0]
    conv = nn.Sequential(
        _normalize(input_shape, mean, std),
        nn.Conv2d(c, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )
    n = _flat_size(conv, input_shape)
    return Classifier(nn.Sequential(*conv, nn.Linear(n, 1024), nn.ReLU()), nn.Linear(1024, num_classes))
