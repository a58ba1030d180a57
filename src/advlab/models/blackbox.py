"""Black-box models: NumPy in, probabilities out. Usable only by attacks that need no gradient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from advlab.models.model import Model


class _ProbabilityFunction(nn.Module):
    def __init__(self, fn: Callable[[np.ndarray], Any], num_classes: int):
        super().__init__()
        self.fn = fn
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = np.asarray(self.fn(x.detach().cpu().numpy()), dtype=np.float64)
        if probs.shape != (x.shape[0], self.num_classes):
            raise ValueError(
                f"black-box model: expected probabilities of shape {(x.shape[0], self.num_classes)}, got {probs.shape}"
            )
        bad = ~np.isfinite(probs) | (probs < 0)
        if bad.any():
            raise ValueError(
                f"black-box model: expected finite, non-negative probabilities, got {int(bad.sum())} value(s) "
                f"like {probs[bad][0]!r} (is the function returning logits?)"
            )
        # log-probabilities are valid logits: softmax(log p) = p (kept in float64, so p comes back exactly).
        return torch.log(torch.as_tensor(probs).clamp_min(1e-300)).to(x.device)


class BlackBoxModel(Model):
    differentiable = False

    def __init__(self, fn: Callable[[np.ndarray], Any], *, bounds: Any, classes: Sequence[Any], input_shape: Sequence[int]):
        if not callable(fn):
            raise TypeError(f"black-box model: expected a callable, got {type(fn).__name__}")
        super().__init__(
            _ProbabilityFunction(fn, len(classes)),
            bounds=bounds,
            classes=classes,
            input_shape=input_shape,
            spec={"family": "blackbox", "options": {}},
        )
