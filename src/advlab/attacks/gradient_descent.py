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
from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.gradients import check_loss, objective, objective_grad, objective_grad_and_logits
from advlab.attacks.margins import is_adversarial
from advlab.attacks.norms import DEFAULT_STEPS, Feasible, per_sample
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model

__all__ = ["DEFAULT_STEPS", "GradientDescent"]


class GradientDescent(Attack):
    """Projected gradient ascent on ``loss`` inside the ε-ball, with optional random restarts.

    ``stepsize`` (absolute) overrides ``rel_stepsize`` (step = rel_stepsize · ε; default: the
    norm's ``default_rel_stepsize(steps)``). With ``restarts > 1`` each sample keeps its best
    restart: a successful one, else the one with the highest loss; samples already fooled are
    not restarted. ``clip_start=False`` takes the first gradient at the unclipped random start
    (Wong et al.'s MNIST code); ``stop_when_fooled=True`` stops moving a sample once the model
    misclassifies it (Wong et al.'s PGD training loop), at no extra cost: the test uses the
    logits of the forward pass that gives the gradient.
    """

    name: ClassVar[str] = "gradient-descent"
    norms: ClassVar[tuple[str, ...]] = ("linf", "l2", "l1")
    feasible_output: ClassVar[bool] = True

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
        clip_start: bool = True,
        stop_when_fooled: bool = False,
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
        for what, flag in {"random_start": random_start, "clip_start": clip_start, "stop_when_fooled": stop_when_fooled}.items():
            if not isinstance(flag, bool):
                raise TypeError(f"{self.name}: {what} must be True or False, got {flag!r}")
        self.stepsize = None if stepsize is None else float(stepsize)
        self.rel_stepsize = float(rel_stepsize if rel_stepsize is not None else self.norm.default_rel_stepsize(self.steps))
        self.random_start = random_start
        self.loss = check_loss(loss)
        self.l1_sparsity = float(l1_sparsity)
        self.clip_start = clip_start
        self.stop_when_fooled = stop_when_fooled

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "steps": self.steps,
            "stepsize": self.stepsize,
            "rel_stepsize": self.rel_stepsize,
            "random_start": self.random_start,
            "restarts": self.restarts,
            "loss": self.loss,
        }
        if self.norm.sparse_steps:
            out["l1_sparsity"] = self.l1_sparsity
        # Shown only when not the default, so earlier configs (and saved results) read the same.
        if not self.clip_start:
            out["clip_start"] = False
        if self.stop_when_fooled:
            out["stop_when_fooled"] = True
        return out

    # --- hooks -----------------------------------------------------------------------------------
    def start(self, model: Model, x: torch.Tensor, eps: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The first iterate: ``x`` itself or a uniform point of the ε-ball (clipped to the bounds
        unless ``clip_start=False``); always a fresh tensor."""
        if not self.random_start:
            return x.clone()
        return self.norm.random_start(x, eps, model.bounds, generator, clip=self.clip_start)

    def direction(self, model: Model, grad: torch.Tensor, x_adv: torch.Tensor) -> torch.Tensor:
        """A unit-norm ascent direction (the norm's; in L1 a sparse step over coordinates free to move)."""
        return self.norm.direction(grad, x_adv, model.bounds, self.l1_sparsity)

    def feasible_set(self, model: Model, x: torch.Tensor, eps: torch.Tensor) -> Feasible:
        """Where iterates may go: the ε-ball around ``x`` inside the bounds."""
        return self.norm.feasible(x, eps, model.bounds)

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
        grad: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One run of ``steps`` projected steps from ``start``; returns the last iterate.

        ``grad``: the objective's gradient at the first iterate when the caller already has it
        (only without a random start; FGSM training reuses its clean pass's gradient this way).
        """
        alpha = per_sample(self.stepsize if self.stepsize is not None else self.rel_stepsize * eps, x)
        feasible = self.feasible_set(model, x, eps)
        x_adv = self.start(model, x, eps, generator)  # a fresh tensor: updated in place below
        for i in range(self.steps):
            if i == 0 and grad is not None:
                g = grad
            elif self.stop_when_fooled:
                g, logits = objective_grad_and_logits(model, x_adv, y, target, self.loss)
                # A fooled sample does not move: zero step (its iterate is already feasible,
                # except an unclipped start, which the projection below brings in).
                g = g * (~is_adversarial(logits, y, target)).reshape(-1, *([1] * (x.ndim - 1))).to(g.dtype)
            else:
                g = objective_grad(model, x_adv, y, target, self.loss)
            # In place: fresh multi-megabyte tensors every step cost page faults (measured:
            # system time grows by a third of the model's compute on MNIST batches of 1000).
            x_adv = feasible.project(x_adv.addcmul_(alpha, self.direction(model, g, x_adv)))
        return x_adv
