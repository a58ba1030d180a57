"""Regularisers compared with adversarial training: mixup, noise-training controls and first-layer L1 decay.

The noise controls are Goodfellow et al.'s: the FGSM objective
α·J(x, y) + (1 − α)·J(x + η, y) with the gradient sign replaced by random noise
of the same max-norm, η = ε·(random signs) or η ~ U(−ε, ε).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advlab.attacks.norms import get_norm
from advlab.models.model import Model
from advlab.train.checks import check_eps, check_fraction
from advlab.train.methods import METHODS, BatchLoss, TrainingMethod

_LINF = get_norm("linf")


class Mixup(TrainingMethod):
    """Zhang et al.: train on λ·xᵢ + (1 − λ)·xⱼ with loss λ·J(·, yᵢ) + (1 − λ)·J(·, yⱼ), λ ~ Beta(α, α) per batch.

    The reported logits are those of the mixed batch.
    """

    name = "mixup"

    def __init__(self, alpha: float = 1.0):
        self.alpha = check_eps(alpha, "mixup: alpha", positive=True)

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def mix(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
        """(mixed inputs, first labels, second labels, λ); a convex mix stays inside the bounds."""
        gen = generator if generator is not None else torch.Generator()
        # λ ~ Beta(α, α) as G₁ / (G₁ + G₂) with G ~ Gamma(α, 1), drawn from the generator by NumPy
        # (torch's Beta sampler reads only the global RNG).
        seed = int(torch.randint(0, 2**62, (1,), generator=gen))
        lam = float(np.random.default_rng(seed).beta(self.alpha, self.alpha))
        perm = torch.randperm(len(x), generator=gen).to(x.device)
        return lam * x + (1 - lam) * x[perm], y, y[perm], lam

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        x_mix, y_a, y_b, lam = self.mix(x, y, generator)
        logits = model(x_mix)
        loss = lam * F.cross_entropy(logits, y_a) + (1 - lam) * F.cross_entropy(logits, y_b)
        return BatchLoss(loss, logits)


class _NoiseControl(TrainingMethod):
    """α·J(x, y) + (1 − α)·J(clip(x + η), y) with random η of max-norm ε; reported logits are the clean ones."""

    def __init__(self, eps: float, alpha: float = 0.5):
        self.eps = check_eps(eps, f"{self.name}: eps")
        self.alpha = check_fraction(alpha, f"{self.name}: alpha")

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "alpha": self.alpha}

    def noise(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def perturb(self, model: Model, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        gen = generator if generator is not None else torch.Generator()
        return model.bounds.clip(x + self.noise(x, gen))

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        logits = model(x)
        clean = F.cross_entropy(logits, y)
        if self.alpha == 1.0:
            return BatchLoss(clean, logits)
        noisy = F.cross_entropy(model(self.perturb(model, x, generator)), y)
        return BatchLoss(self.alpha * clean + (1 - self.alpha) * noisy, logits)


class SignNoise(_NoiseControl):
    """Control for FGSM training: η = ±ε per coordinate (random signs instead of the gradient's)."""

    name = "noise-sign"

    def noise(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _LINF.sphere(x, self.eps, generator)  # a random corner of the L∞ ball


class UniformNoise(_NoiseControl):
    """Control for FGSM training: η ~ U(−ε, ε) per coordinate."""

    name = "noise-uniform"

    def noise(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _LINF.random(x, self.eps, generator)  # uniform in the L∞ ball


_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def first_layer(model: nn.Module) -> nn.Module:
    """The first Linear/Conv layer in module order (the one right after ``Normalize`` in zoo nets)."""
    for module in model.modules():
        if isinstance(module, _WEIGHTED):
            return module
    raise ValueError(f"l1: {type(model).__name__} has no Linear or Conv layer to put L1 weight decay on")


class L1WeightDecay(TrainingMethod):
    """Goodfellow et al.'s control: J(x, y) + coeff·‖W₁‖₁ on the first layer's weights (bias excluded).

    The default coefficient, 0.0025, is the value Goodfellow et al. report
    (too large for their maxout net: training error stayed above 5%).
    """

    name = "l1"

    def __init__(self, coeff: float = 0.0025):
        self.coeff = check_eps(coeff, "l1: coeff")

    def params(self) -> dict[str, Any]:
        return {"coeff": self.coeff}

    def penalty(self, model: Model) -> torch.Tensor:
        weight = first_layer(model).weight
        if not isinstance(weight, torch.Tensor):
            raise TypeError(f"l1: the first layer's weight is a {type(weight).__name__}, not a tensor")
        return self.coeff * weight.abs().sum()

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        logits = model(x)
        return BatchLoss(F.cross_entropy(logits, y) + self.penalty(model), logits)


METHODS.register("mixup", Mixup)
METHODS.register("noise-sign", SignNoise)
METHODS.register("noise-uniform", UniformNoise)
METHODS.register("l1", L1WeightDecay)
