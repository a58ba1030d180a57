"""Small layers shared by the zoo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class Normalize(nn.Module):
    """(x − mean) / std as the model's first layer, so inputs stay in the bounds a human sees.

    ``mean``/``std`` are buffers (saved with the weights); scalars or one value per channel/feature.
    Inputs are cast to the buffers' dtype, so a float64 network (e.g. an exact scikit-learn
    conversion) accepts the float32 inputs every attack and picture uses.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: float | Sequence[float] = 0.0, std: float | Sequence[float] = 1.0, ndim: int = 1):
        super().__init__()
        # explicit CPU: validating needs real values even while a model is built on the meta device
        m = torch.as_tensor(mean, dtype=torch.float32, device="cpu")
        s = torch.as_tensor(std, dtype=torch.float32, device="cpu")
        if not torch.isfinite(m).all() or not torch.isfinite(s).all() or (s <= 0).any():
            raise ValueError(f"Normalize: expected finite mean and positive std, got mean={m.tolist()} std={s.tolist()}")
        # Per-channel values broadcast over the trailing spatial dims of an image.
        shape = (-1,) + (1,) * (ndim - 1) if m.ndim == 1 and ndim > 1 else m.shape
        self.register_buffer("mean", m.reshape(shape))
        self.register_buffer("std", s.reshape(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(self.mean.dtype) - self.mean) / self.std


class Classifier(nn.Module):
    """``features`` (input → representation) followed by a linear ``head`` (→ logits).

    Every zoo network has this shape, so experiments can reach the representation
    (e.g. the 2-unit bottleneck) without knowing the family.
    """

    def __init__(self, features: nn.Module, head: nn.Module):
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def classifier(model: Any) -> Classifier:
    """The ``features``/``head`` split of a zoo network (``model``: a Model or its net).

    The documented way to reach a representation (hidden features, a bottleneck) or the
    last layer, instead of attribute paths into ``model.net``.
    """
    net = getattr(model, "net", model)
    if not isinstance(net, Classifier):
        raise TypeError(f"expected a zoo network with a features/head split (Classifier), got {type(net).__name__}")
    return net


def linear_head(model: Any) -> nn.Linear:
    """The last layer of a zoo network whose head is linear (softmax, mlp, cnn-small, cnn-madry…)."""
    head = classifier(model).head
    if not isinstance(head, nn.Linear):
        raise TypeError(f"expected a linear head, got {type(head).__name__}")
    return head
