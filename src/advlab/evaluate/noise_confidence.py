"""Confidence on noise: how sure a model is about inputs that resemble nothing it was trained on.

Function form ``noise_confidence(model, kind, n=…, seed=…)`` and class form
``NoiseConfidence(kind, n=…, seed=…)(model)``, both returning a
``NoiseConfidenceResult``: the mean and median top-class probability, the
fraction above 0.5 (Goodfellow et al.'s "error" on rubbish: any class with
p > 0.5) and above 0.99, and which classes the confident answers go to.

Noise kinds: ``"gaussian"`` is N(0, I) fed as it is (Goodfellow et al.'s
rubbish protocol: most values lie outside an image's [0, 1] box);
``"gaussian-clipped"`` the same draws clipped into the model's bounds;
``"uniform"`` is uniform over the bounds (valid images of pure noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

NOISE_KINDS = ("gaussian", "gaussian-clipped", "uniform")
CONFIDENT = 0.5  # Goodfellow et al.'s appendix A: assigning any class a probability > 0.5 is an error on rubbish


@dataclass
class NoiseConfidenceResult:
    kind: str
    n: int
    mean: float
    median: float
    fraction_confident: float  # top probability > 0.5
    fraction_above_99: float  # top probability ≥ 0.99
    mean_confident: float  # mean top probability among the confident answers (NaN when none)
    class_shares: list[float]  # share of the confident answers per class
    confidences: torch.Tensor  # n top-class probabilities

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "mean": self.mean, "median": self.median,
                "fraction_confident": self.fraction_confident, "fraction_above_99": self.fraction_above_99,
                "mean_confident": self.mean_confident, "class_shares": self.class_shares}  # fmt: skip


def noise_inputs(kind: str, n: int, model: Any, seed: int = 0) -> torch.Tensor:
    """n noise inputs shaped like the model's input (see the module text for the kinds)."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"noise: n must be a positive integer, got {n!r}")
    gen = torch.Generator().manual_seed(int(seed))
    shape = (n, *model.input_shape)
    lo = torch.broadcast_to(model.bounds.lower, tuple(model.input_shape)).float()
    hi = torch.broadcast_to(model.bounds.upper, tuple(model.input_shape)).float()
    if kind == "uniform":
        return lo + (hi - lo) * torch.rand(shape, generator=gen)
    x = torch.randn(shape, generator=gen)
    return torch.minimum(torch.maximum(x, lo), hi) if kind == "gaussian-clipped" else x


def noise_confidence(model: Any, kind: str = "gaussian", *, n: int = 10000, seed: int = 0,
                     batch_size: int = 2048) -> NoiseConfidenceResult:  # fmt: skip
    """The model's top-class probability on n noise inputs of ``kind``, summarised."""
    x = noise_inputs(kind, n, model, seed)
    probs = model.predict_proba(x, batch_size=batch_size).cpu()
    conf, pred = probs.max(dim=1)
    confident = conf > CONFIDENT
    counts = torch.bincount(pred[confident], minlength=probs.shape[1]).float()
    return NoiseConfidenceResult(
        kind=kind,
        n=n,
        mean=conf.mean().item(),
        median=conf.median().item(),
        fraction_confident=confident.float().mean().item(),
        fraction_above_99=(conf >= 0.99).float().mean().item(),
        mean_confident=conf[confident].mean().item() if confident.any() else float("nan"),
        class_shares=(counts / max(int(confident.sum()), 1)).tolist(),
        confidences=conf,
    )


class NoiseConfidence:
    """Class form: configured once (kind, n, seed), called on any number of models."""

    def __init__(self, kind: str = "gaussian", *, n: int = 10000, seed: int = 0, batch_size: int = 2048):
        if kind not in NOISE_KINDS:
            raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"noise: n must be a positive integer, got {n!r}")
        self.kind, self.n, self.seed, self.batch_size = kind, n, int(seed), batch_size

    def __call__(self, model: Any) -> NoiseConfidenceResult:
        return noise_confidence(model, self.kind, n=self.n, seed=self.seed, batch_size=self.batch_size)

    def __repr__(self) -> str:
        return f"NoiseConfidence(kind={self.kind!r}, n={self.n}, seed={self.seed})"
