"""FGSM (Goodfellow et al., 2015): one full step of size ε along the steepest ascent direction."""

from __future__ import annotations

from typing import Any, ClassVar

from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.registry import ATTACKS


@ATTACKS.register("fgsm")
class FGSM(GradientDescent):
    """Fast gradient (sign) method: ``x + ε·sign(∇loss)`` in L∞, ``x + ε·∇/‖∇‖`` in L2, sparse in L1."""

    name: ClassVar[str] = "fgsm"

    # One L1 step must spend its whole budget at once: spread it over the top 10 % of |∇|.
    def __init__(self, norm: str = "linf", *, loss: str = "ce", l1_sparsity: float = 0.9):
        super().__init__(norm, steps=1, rel_stepsize=1.0, random_start=False, loss=loss, l1_sparsity=l1_sparsity)

    def params(self) -> dict[str, Any]:
        return {"loss": self.loss, **({"l1_sparsity": self.l1_sparsity} if self.norm.sparse_steps else {})}
