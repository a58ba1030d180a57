"""Confidence off the data: how sure a model is on noise (Gaussian, uniform) and on "rubbish" inputs.

A model that labels pure noise with high confidence has decision regions reaching far
from the data (Goodfellow et al., 2015, who fed N(0, I) "rubbish" to MNIST models).
``confidence(model, x)`` scores any inputs; ``noise_confidence(model, kind=…, n=…, seed=…)``
draws them: ``gaussian`` N(mean, σ²) (``clip``: into the model's bounds, else fed as drawn),
``uniform`` over the model's box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from advlab.models.model import Model

NOISE_KINDS = ("gaussian", "uniform")
CONFIDENT = 0.5


@dataclass(eq=False)
class ConfidenceResult:
    """Top-class probabilities of N inputs and what they add up to."""

    kind: str
    confidences: torch.Tensor  # N
    predictions: torch.Tensor  # N
    num_classes: int
    threshold: float = CONFIDENT

    @property
    def confident(self) -> torch.Tensor:
        return self.confidences > self.threshold

    @property
    def fraction_confident(self) -> float:
        return self.confident.float().mean().item()

    @property
    def mean_confidence(self) -> float:
        return self.confidences.mean().item()

    @property
    def mean_confidence_confident(self) -> float:
        c = self.confident
        return self.confidences[c].mean().item() if c.any() else math.nan

    def class_shares(self) -> list[float]:
        """Among confident inputs, the share given to each class."""
        c = self.confident
        counts = torch.bincount(self.predictions[c], minlength=self.num_classes).float()
        return (counts / max(int(c.sum()), 1)).tolist()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": len(self.confidences), "threshold": self.threshold,
                "fraction_confident": self.fraction_confident, "mean_confidence": self.mean_confidence,
                "mean_confidence_confident": self.mean_confidence_confident, "confident_class_shares": self.class_shares()}

    def __str__(self) -> str:
        return (f"{self.kind}: {len(self.confidences)} inputs, {100 * self.fraction_confident:.1f}% given a class with "
                f"p > {self.threshold:g}, mean top probability {self.mean_confidence:.3f}")


def confidence(model: Model, x: torch.Tensor, kind: str = "inputs", threshold: float = CONFIDENT) -> ConfidenceResult:
    """Top-class probabilities of the model on ``x`` (any values: rubbish need not lie in the bounds)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"confidence: x must be a floating-point tensor, got {type(x).__name__}")
    if not 0 <= threshold < 1:
        raise ValueError(f"confidence: threshold must be in [0, 1), got {threshold}")
    conf, pred = model.predict_proba(x).cpu().max(dim=1)
    return ConfidenceResult(kind, conf, pred, model.num_classes, threshold)


def noise_inputs(model: Model, kind: str, n: int, seed: int, *, mean: float = 0.0, std: float = 1.0,
                 clip: bool = False) -> torch.Tensor:
    """n noise inputs shaped like the model's: ``gaussian`` N(mean, std²) or ``uniform`` over its bounds."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise_inputs: kind must be one of {NOISE_KINDS}, got {kind!r}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"noise_inputs: n must be a positive integer, got {n!r}")
    g = torch.Generator().manual_seed(int(seed))
    shape = (n, *model.input_shape)
    if kind == "gaussian":
        x = mean + std * torch.randn(shape, generator=g)
        return model.bounds.clip(x) if clip else x
    lo, hi = model.bounds.lower.cpu(), model.bounds.upper.cpu()
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def noise_confidence(model: Model, kind: str = "gaussian", n: int = 1000, seed: int = 0, *, mean: float = 0.0,
                     std: float = 1.0, clip: bool = False, threshold: float = CONFIDENT) -> ConfidenceResult:
    """``confidence`` on ``noise_inputs`` (Goodfellow et al.'s rubbish: ``kind="gaussian"``, unclipped)."""
    x = noise_inputs(model, kind, n, seed, mean=mean, std=std, clip=clip)
    label = f"{kind}{' clipped' if clip and kind == 'gaussian' else ''}"
    return confidence(model, x, label, threshold)
