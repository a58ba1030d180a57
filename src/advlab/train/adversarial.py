"""Adversarial training (L∞): Goodfellow's FGSM objective, Madry's PGD, and "fast" FGSM with a random start.

Train or eval mode while crafting? Every method crafts in the mode ``fit`` puts
the model in, train mode, as the reference implementations do: Wong, Rice &
Kolter craft in train mode, Madry et al. craft on their training graph, and
Goodfellow's objective takes ∇ₓJ from the same forward pass that gives J(x, y)
(which is also what lets ``FGSMAdversarial`` reuse that pass). For a dropout net
such as ``maxout`` each crafting pass thus sees its own dropout mask: the
perturbation is the gradient sign of a sampled sub-network, not of the averaged
net used at test time. That is a deliberate choice, documented here; a model
without dropout or batch norm (mlp, cnn-small, cnn-madry) gives the same
perturbation in either mode.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from advlab.models.model import Model
from advlab.train.methods import METHODS, BatchLoss, TrainingMethod
from advlab.train.perturb import (
    Box,
    check_count,
    check_eps,
    check_fraction,
    loss_gradient_and_logits,
    sign_step,
    uniform_noise,
)


class FGSMAdversarial(TrainingMethod):
    """Goodfellow et al.: α·J(x, y) + (1 − α)·J(x + ε·sign(∇ₓJ(x, y)), y).

    ∇ₓJ comes from the clean forward pass that also gives J(x, y), so a batch
    costs two forwards and two backwards. α = 1 is standard training exactly.
    The reported logits are the clean ones.
    """

    name = "fgsm"

    def __init__(self, eps: float, alpha: float = 0.5):
        self.eps = check_eps(eps, "fgsm: eps")
        self.alpha = check_fraction(alpha, "fgsm: alpha")

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "alpha": self.alpha}

    def perturb(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The FGSM batch x + ε·sign(∇ₓJ), clipped into the bounds (for inspection and tests)."""
        return sign_step(model, Box(model, x), x, x, y, self.eps, self.eps).detach()

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        if self.alpha == 1.0:
            logits = model(x)
            return BatchLoss(F.cross_entropy(logits, y), logits)
        x = x.detach().requires_grad_(True)
        logits = model(x)
        clean = F.cross_entropy(logits, y)
        (grad,) = torch.autograd.grad(clean, x, retain_graph=True)
        x_adv = Box(model, x).clip(x.detach() + self.eps * grad.sign())
        adversarial = F.cross_entropy(model(x_adv), y)
        return BatchLoss(self.alpha * clean + (1 - self.alpha) * adversarial, logits)


class PGDAdversarial(TrainingMethod):
    """Madry et al.: train on the PGD adversarial only (MNIST: ε = 0.3, 40 steps of 0.01, random start).

    Each of the ``steps`` costs one forward and one backward to the input; the
    reported logits are those of the adversarial batch (robust training accuracy).
    """

    name = "pgd"

    def __init__(
        self, eps: float, steps: int = 40, stepsize: float = 0.01, random_start: bool = True, stop_when_fooled: bool = False
    ):
        self.eps = check_eps(eps, "pgd: eps")
        self.steps = check_count(steps, "pgd: steps")
        self.stepsize = check_eps(stepsize, "pgd: stepsize", positive=True)
        for what, flag in {"random_start": random_start, "stop_when_fooled": stop_when_fooled}.items():
            if not isinstance(flag, bool):
                raise TypeError(f"pgd: {what} must be True or False, got {flag!r}")
        self.random_start = random_start
        # Wong, Rice & Kolter's MNIST PGD training stops moving a sample once it is misclassified;
        # early in training that lets a small CNN leave the constant-prediction plateau on which
        # plain PGD training (ε 0.3) stays stuck (measured in madry-mnist).
        self.stop_when_fooled = stop_when_fooled

    def params(self) -> dict[str, Any]:
        return {
            "eps": self.eps, "steps": self.steps, "stepsize": self.stepsize,
            "random_start": self.random_start, "stop_when_fooled": self.stop_when_fooled,
        }  # fmt: skip

    def perturb(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        box = Box(model, x)
        x_adv = box.clip(x + uniform_noise(x, self.eps)) if self.random_start else x
        for _ in range(self.steps):
            if not self.stop_when_fooled:
                x_adv = sign_step(model, box, x_adv, x, y, self.stepsize, self.eps)
                continue
            grad, logits = loss_gradient_and_logits(model, x_adv, y)
            still_right = (logits.argmax(1) == y).reshape(-1, *([1] * (x.ndim - 1)))
            x_adv = torch.where(still_right, box.project(x_adv + self.stepsize * grad.sign(), x, self.eps), x_adv)
        return x_adv.detach()

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        logits = model(self.perturb(model, x, y))
        return BatchLoss(F.cross_entropy(logits, y), logits)


class FastFGSM(TrainingMethod):
    """Wong, Rice & Kolter's "fast" training: one FGSM step of 1.25·ε from a U(−ε, ε) start, cyclic learning rate.

    A batch costs two forwards and two backwards (the first to the input only).
    The reported logits are those of the adversarial batch.
    """

    name = "fast"
    default_schedule = "cyclic"

    def __init__(self, eps: float, step: float | None = None, clip_start: bool = True):
        self.eps = check_eps(eps, "fast: eps")
        self.step = 1.25 * self.eps if step is None else check_eps(step, "fast: step")
        if not isinstance(clip_start, bool):
            raise TypeError(f"fast: clip_start must be True or False, got {clip_start!r}")
        # Wong et al.'s MNIST code takes the gradient at the *unclipped* start x + U(−ε, ε) and
        # clamps only the final δ; on MNIST's black background that keeps the perturbation random
        # where clipping the start first makes it a deterministic FGSM corner (madry-mnist measures
        # the difference). Their CIFAR code clips the start: that is the default here.
        self.clip_start = clip_start

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "step": self.step, "clip_start": self.clip_start}

    def random_start(self, model: Model, x: torch.Tensor) -> torch.Tensor:
        """x + U(−ε, ε), clipped into the bounds unless ``clip_start=False``."""
        start = x.detach() + uniform_noise(x, self.eps)
        return Box(model, x).clip(start) if self.clip_start else start

    def perturb(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        return sign_step(model, Box(model, x), self.random_start(model, x), x, y, self.step, self.eps).detach()

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        logits = model(self.perturb(model, x, y))
        return BatchLoss(F.cross_entropy(logits, y), logits)


METHODS.register("fgsm", FGSMAdversarial)
METHODS.register("pgd", PGDAdversarial)
METHODS.register("fast", FastFGSM)
