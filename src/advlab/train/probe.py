"""fit's watch for catastrophic overfitting (Wong, Rice & Kolter): a small PGD probe after every epoch.

A few hundred training images are held out of training; after each epoch the
model's accuracy on them under a short PGD at the method's ε is measured, the
weights of the best epoch are kept, and ``fit`` restores them at the end when a
later epoch fell below. Fast FGSM training that overfits catastrophically shows
a probe accuracy that rises and then drops to ~0 within an epoch; the best
checkpoint is the model from before the drop. At the end the probe also
compares FGSM with PGD accuracy: FGSM far above PGD is a sign of gradient
masking, and ``fit`` warns.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from advlab.attacks.base import Attack
from advlab.attacks.fgsm import FGSM
from advlab.models.model import Model

#: ``probe=None`` in fit: the method's default probe when the training set is at least this many times its size.
MIN_TRAIN_PER_PROBE = 10


@dataclass(frozen=True)
class RobustProbe:
    """Accuracy under ``attack`` at ``eps`` on ``size`` held-out training images, after every epoch.

    ``fgsm_gap``: warn at the end when FGSM accuracy exceeds the probe's by more than this.
    """

    attack: Attack
    eps: float
    size: int = 500
    fgsm_gap: float = 0.25
    batch_size: int = 500

    def __post_init__(self) -> None:
        if not isinstance(self.attack, Attack) or self.attack.minimization:
            raise TypeError(f"RobustProbe: attack must be a fixed-ε advlab Attack, got {self.attack!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"RobustProbe: size must be a positive integer, got {self.size!r}")
        if not math.isfinite(self.eps) or self.eps <= 0:
            raise ValueError(f"RobustProbe: eps must be a positive number, got {self.eps!r}")

    def accuracy(self, model: Model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator,
                 attack: Attack | None = None) -> float:
        """Fraction of (x, y) still classified right under the attack (eval mode; weights untouched)."""
        atk = attack or self.attack
        was_training = model.training
        model.eval()
        dev = model.device
        right = 0
        try:
            for i in range(0, len(x), self.batch_size):
                xb, yb = x[i : i + self.batch_size].to(dev), y[i : i + self.batch_size].to(dev)
                adv = atk.perturb(model, xb, yb, eps=self.eps, generator=generator)
                with torch.no_grad():
                    right += int((model(adv).argmax(1) == yb).sum())
        finally:
            model.train(was_training)
        return right / max(1, len(x))

    def fgsm_accuracy(self, model: Model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> float:
        return self.accuracy(model, x, y, generator, FGSM(self.attack.norm.name))

    def describe(self) -> dict[str, Any]:
        return {"attack": self.attack.config(), "eps": self.eps, "size": self.size}


@dataclass
class BestCheckpoint:
    """The best probe accuracy so far, its epoch and a copy of its weights."""

    epoch: int = 0
    accuracy: float = -1.0
    state: dict[str, torch.Tensor] = field(default_factory=dict)

    def offer(self, epoch: int, accuracy: float, model: Model) -> bool:
        """Keep ``model``'s weights if ``accuracy`` is the best so far (ties: the later epoch)."""
        if accuracy < self.accuracy:
            return False
        self.epoch, self.accuracy = epoch, accuracy
        self.state = {k: v.detach().cpu().clone() for k, v in model.net.state_dict().items()}
        return True

    def restore(self, model: Model) -> None:
        model.net.load_state_dict(copy.deepcopy(self.state))

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "probe_accuracy": self.accuracy}
