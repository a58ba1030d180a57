"""One projected-gradient loop (Foolbox style); FGSM, BIM and PGD are configurations of it.

Each step is one forward and one backward on the whole batch, then
``x ← feasible(x + α·direction(∇))``. The norm-specific parts — the random
start, the steepest direction and the feasible set (ε-ball ∩ bounds) — are hooks
(``start``, ``direction``, ``feasible_set``) that delegate to the ``Norm``
object, so a new norm or step rule is one small override. The step adds only
three elementwise passes to the model's own forward and backward.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.gradients import check_loss, is_adversarial, objective, objective_grad
from advlab.attacks.norms import L1, LInf, Norm, per_sample
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model

#: Step size relative to ε when none is given. L∞: Madry et al.'s (and Foolbox's) 0.01 for
#: ε = 0.3 on MNIST. L2/L1: 0.1, larger than Foolbox's 0.025, because 40 steps of 0.025·ε
#: barely leave a random start near the sphere (measured on digits: 0.025 made L2 PGD
#: weaker than FGSM; 0.1 was best among 0.025, 0.0625, 0.1, 0.2).
DEFAULT_REL_STEPSIZE: dict[str, float] = {"linf": 0.01 / 0.3, "l2": 0.1, "l1": 0.1}
#: The defaults above are for 40 steps; fewer steps get proportionally larger ones so the
#: path can still cross the ball (10 steps of 0.033·ε would reach only a third of the way).
DEFAULT_STEPS = 40


def default_rel_stepsize(norm: str, steps: int) -> float:
    return DEFAULT_REL_STEPSIZE[norm] * max(1.0, DEFAULT_STEPS / steps)


class GradientDescent(Attack):
    """Projected gradient ascent on ``loss`` inside the ε-ball, with optional random restarts.

    ``stepsize`` (absolute) overrides ``rel_stepsize`` (step = rel_stepsize · ε). With
    ``restarts > 1`` each sample keeps its best restart: a successful one, else the one
    with the highest loss; samples already fooled are not restarted.
    """

    name: ClassVar[str] = "gradient-descent"
    norms: ClassVar[tuple[str, ...]] = ("linf", "l2", "l1")

    def __init__(
        self,
        norm: str = "linf",
        *,
        steps: int,
        rel_stepsize: float | None = None,
        stepsize: float | None = None,
        random_start: bool = False,
        restarts: int = 1,
        loss: str = "ce",
        l1_sparsity: float = 0.99,
    ):
        super().__init__(norm)
        if self.norm.name not in self.norms:
            raise ValueError(f"{self.name}: norm must be one of {self.norms}, got {norm!r}")
        self.steps = check_positive_int(steps, f"{self.name}: steps", allow_none=False)
        self.restarts = check_positive_int(restarts, f"{self.name}: restarts", allow_none=False)
        for what, value in {"stepsize": stepsize, "rel_stepsize": rel_stepsize}.items():
            if value is not None and (not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0):
                raise ValueError(f"{self.name}: {what} must be a positive number, got {value!r}")
        if self.restarts > 1 and not random_start:
            raise ValueError(f"{self.name}: restarts={restarts} needs random_start=True (restarts would be identical)")
        if not 0.0 <= l1_sparsity <= 1.0:
            raise ValueError(f"{self.name}: l1_sparsity must be in [0, 1], got {l1_sparsity}")
        self.stepsize = None if stepsize is None else float(stepsize)
        self.rel_stepsize = float(rel_stepsize if rel_stepsize is not None else default_rel_stepsize(self.norm.name, self.steps))
        self.random_start = bool(random_start)
        self.loss = check_loss(loss)
        self.l1_sparsity = float(l1_sparsity)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "steps": self.steps,
            "stepsize": self.stepsize,
            "rel_stepsize": self.rel_stepsize,
            "random_start": self.random_start,
            "restarts": self.restarts,
            "loss": self.loss,
        }
        if self.norm.name == "l1":
            out["l1_sparsity"] = self.l1_sparsity
        return out

    # --- hooks -----------------------------------------------------------------------------------
    def start(self, model: Model, x: torch.Tensor, eps: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The first iterate: ``x`` itself or a uniform point of the ε-ball (clipped to the bounds)."""
        if not self.random_start:
            return x.clone()
        return model.bounds.clip(x + self.norm.random(x, eps, generator))

    def direction(self, model: Model, grad: torch.Tensor, x_adv: torch.Tensor) -> torch.Tensor:
        """A unit-norm ascent direction; in L1 a sparse step over coordinates free to move."""
        if isinstance(self.norm, L1):
            lo, hi = model.bounds.like(x_adv)
            movable = ((grad > 0) & (x_adv < hi)) | ((grad < 0) & (x_adv > lo))
            return self.norm.sparse_steepest(grad, self.l1_sparsity, movable)
        return self.norm.steepest(grad)

    def feasible_set(self, model: Model, x: torch.Tensor, eps: torch.Tensor) -> Feasible:
        """Where iterates may go: the ε-ball around ``x`` inside the bounds."""
        if isinstance(self.norm, LInf):
            return Box(model, x, eps)
        return BallInBounds(self.norm, model, x, eps)

    # --- the loop --------------------------------------------------------------------------------
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
        if eps is None:
            raise ValueError(f"{self.name}: eps is required")
        if self.restarts == 1:
            return self.descend(model, x, y, eps, target, generator)
        best = x.clone()
        best_ok = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        best_value = torch.full((len(x),), float("-inf"), device=x.device)
        for _ in range(self.restarts):
            idx = (~best_ok).nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            t = None if target is None else target[idx]
            adv = self.descend(model, x[idx], y[idx], eps[idx], t, generator)
            # One extra forward per restart: the loop's last forward was before its last step.
            with torch.no_grad():
                logits = model(adv)
            ok = is_adversarial(logits, y[idx], t)
            value = objective(logits, y[idx], t, self.loss).float()
            better = ok | (value > best_value[idx])
            best[idx[better]] = adv[better]
            best_value[idx] = torch.where(better, value, best_value[idx])
            best_ok[idx] = ok
        return best

    def descend(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: torch.Tensor,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """One run of ``steps`` projected steps from ``start``; returns the last iterate."""
        alpha = per_sample(self.stepsize if self.stepsize is not None else self.rel_stepsize * eps, x)
        feasible = self.feasible_set(model, x, eps)
        x_adv = self.start(model, x, eps, generator)  # a fresh tensor: updated in place below
        for _ in range(self.steps):
            grad = objective_grad(model, x_adv, y, target, self.loss)
            # In place: fresh multi-megabyte tensors every step cost page faults (measured:
            # system time grows by a third of the model's compute on MNIST batches of 1000).
            x_adv = feasible.project(x_adv.addcmul_(alpha, self.direction(model, grad, x_adv)))
        return x_adv


class Feasible(ABC):
    """The feasible set of one batch; ``project`` maps iterates into it."""

    @abstractmethod
    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        """The point of the set nearest to ``x_adv`` (or a point of it close to that); may reuse
        ``x_adv``'s memory."""


class Box(Feasible):
    """L∞: the ε-ball and the bounds are both boxes, so their intersection is one box and a
    single clamp is the exact Euclidean projection onto it (no ``x₀ + clip(x − x₀)`` round trip)."""

    def __init__(self, model: Model, x: torch.Tensor, eps: torch.Tensor):
        e = per_sample(eps, x)
        self.lower = model.bounds.clip(x - e)
        self.upper = model.bounds.clip(x + e)

    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        return x_adv.clamp_(self.lower, self.upper)


class BallInBounds(Feasible):
    """L2/L1: project the perturbation onto the ε-ball, then clip into the bounds (the usual
    approximation of the projection onto their intersection; the result lies in both)."""

    def __init__(self, norm: Norm, model: Model, x: torch.Tensor, eps: torch.Tensor):
        self.norm, self.bounds, self.x, self.eps = norm, model.bounds, x, eps

    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        return self.bounds.clip(self.x + self.norm.project(x_adv - self.x, self.eps))
