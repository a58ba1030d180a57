"""Iterative gradient attacks: BIM (Kurakin et al., 2017) and PGD (Madry et al., 2018)."""

from __future__ import annotations

from typing import ClassVar

from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.registry import ATTACKS


@ATTACKS.register("bim")
class BIM(GradientDescent):
    """Basic iterative method: iterated FGSM from the clean input (no random start), 10 steps of 0.2·ε."""

    name: ClassVar[str] = "bim"

    def __init__(
        self,
        norm: str = "linf",
        *,
        steps: int = 10,
        stepsize: float | None = None,
        rel_stepsize: float = 0.2,
        loss: str = "ce",
        l1_sparsity: float = 0.99,
    ):
        super().__init__(
            norm, steps=steps, stepsize=stepsize, rel_stepsize=rel_stepsize, random_start=False, loss=loss,
            l1_sparsity=l1_sparsity,
        )  # fmt: skip


@ATTACKS.register("pgd")
class PGD(GradientDescent):
    """Projected gradient descent from a uniform random point of the ε-ball, with optional restarts.

    Default step (``rel_stepsize=None``): 0.01/0.3·ε in L∞ (Madry et al.'s MNIST setting, as
    Foolbox), 0.1·ε in L2 and L1 (the norm's ``default_rel_stepsize``). ``loss="cw"`` ascends the
    logit margin. The L1 step is sparse (``l1_sparsity``: the top 1 % of |∇| by default).
    ``clip_start=False``: first gradient at the unclipped random start (Wong et al.'s MNIST code);
    ``stop_when_fooled=True``: a sample stops moving once misclassified (Wong et al.'s training loop).
    """

    name: ClassVar[str] = "pgd"

    def __init__(
        self,
        norm: str = "linf",
        *,
        steps: int = 40,
        stepsize: float | None = None,
        rel_stepsize: float | None = None,
        random_start: bool = True,
        restarts: int = 1,
        loss: str = "ce",
        l1_sparsity: float = 0.99,
        clip_start: bool = True,
        stop_when_fooled: bool = False,
    ):
        super().__init__(
            norm, steps=steps, stepsize=stepsize, rel_stepsize=rel_stepsize, random_start=random_start,
            restarts=restarts, loss=loss, l1_sparsity=l1_sparsity, clip_start=clip_start,
            stop_when_fooled=stop_when_fooled,
        )  # fmt: skip
