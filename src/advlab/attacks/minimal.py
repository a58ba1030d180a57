"""The base of the minimisation attacks (CW, DDN, FMN): each minimises only the inputs not yet adversarial."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.margins import attack_remaining
from advlab.models.model import Model


class MinimalAttack(Attack):
    """An attack searching the smallest adversarial per input; subclasses implement ``minimise``.

    ``run`` hands ``minimise`` only the inputs the model does not already get wrong (or already
    put in the target class): those are their own minimal adversarial, at distance 0.
    """

    minimization: ClassVar[bool] = True

    def run(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: torch.Tensor | None,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        return attack_remaining(model, x, y, target, lambda xs, ys, ts: self.minimise(model, xs, ys, ts, generator))

    @abstractmethod
    def minimise(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        """The smallest adversarial found for each input of a batch none of whose inputs is adversarial yet."""
