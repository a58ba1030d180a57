"""Training methods: the per-batch loss that ``fit`` minimises.

``fit`` knows nothing about how a loss is made; a method object does. New
methods (adversarial training, mixup, noise controls…) subclass
``TrainingMethod`` and register a name for the CLI; ``fit`` stays unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from advlab.models.model import Model
from advlab.registry import Registry


@dataclass
class BatchLoss:
    """The scalar loss to minimise and the logits to report training accuracy from."""

    loss: torch.Tensor
    logits: torch.Tensor


class TrainingMethod(ABC):
    """One training objective. ``config()`` is recorded in the trained model's spec."""

    name: ClassVar[str] = "abstract"
    #: learning-rate schedule the method's paper uses, when the user asks for none.
    default_schedule: ClassVar[str | None] = None
    #: fit settings (epochs, batch_size, lr, schedule) the method works with, used where the caller gives none.
    recommended: ClassVar[dict[str, Any]] = {}

    @abstractmethod
    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        """Loss on one batch; ``model`` is in train mode and ``x`` on its device.

        Randomness (random starts, noise, mixing) is drawn from ``generator``, which ``fit``
        hands in (seeded, checkpointed); None: a fresh ``torch.Generator()`` (fixed default seed).
        """

    def probe_attack(self) -> Any:
        """(attack, ε) for ``fit``'s per-epoch robustness probe, or None (no probe: not a robust method)."""
        return None

    def params(self) -> dict[str, Any]:
        return {}

    def config(self) -> dict[str, Any]:
        return {"method": self.name, **self.params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class StandardTraining(TrainingMethod):
    """Cross-entropy on clean inputs."""

    name = "standard"

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        logits = model(x)
        return BatchLoss(F.cross_entropy(logits, y), logits)


#: Training methods by name: ``METHODS.create("pgd", eps=0.3)``; each module registers its own.
METHODS: Registry[Callable[..., TrainingMethod]] = Registry("training method", hint=" (see `advlab train --help`)")

METHODS.register("standard", StandardTraining)
