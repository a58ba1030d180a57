"""Auto-PGD (Croce & Hein, ICML 2020): APGD-CE, APGD-DLR and the targeted APGD-T, in L∞ and L2.

PGD without a step size to tune: the step starts at 2ε and is halved at
checkpoints w_j (w_0 = 0, w_1 = 0.22·N, w_{j+1} = w_j + max(w_j − w_{j−1} − 0.03·N,
0.06·N)) whenever, since the last checkpoint, (1) fewer than ρ = 75 % of the
steps raised the loss or (2) the step was not halved last time and the best loss
did not improve; a halving restarts from the best point so far. Each update
mixes the projected step with the last move (momentum 0.25):
``z = P(x_k + η·s(∇)),  x_{k+1} = P(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1}))``, α = 0.75.

A point stops costing anything once it is adversarial: it leaves the active batch
and its adversarial is kept. Points never broken return the iterate of highest loss.

Losses: ``ce`` (cross-entropy) and ``dlr``, the Difference of Logits Ratio,
shift- and scale-invariant in the logits: ``−(z_y − max_{i≠y} z_i)/(z_π1 − z_π3)``;
targeted ``−(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2)`` (π sorts the logits, decreasing).
``APGDT`` (APGD-T) runs the targeted DLR version once per target class, the
classes the clean input ranks 2nd, 3rd, … (``targets`` of them), each only on the
points still robust.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F

from advlab.attacks.base import Attack
from advlab.attacks.margins import is_adversarial
from advlab.attacks.norms import Feasible, per_sample
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model

APGD_LOSSES = ("ce", "dlr")


def checkpoints(steps: int) -> list[int]:
    """The iterations at which APGD may halve its step: ⌈p_j·steps⌉ for the paper's p_j ≤ 1."""
    p = [0.0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    # Rounded before the ceiling: 0.57 is 0.5700000000000001 in floats.
    marks = {math.ceil(round(v * steps, 9)) for v in p[1:] if v <= 1 + 1e-9}
    return sorted(m for m in marks if 1 <= m <= steps)


def dlr_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Per sample, to be maximised: the (targeted) Difference of Logits Ratio (see module docstring)."""
    z, _ = logits.sort(dim=1, descending=True)
    own = logits.gather(1, y[:, None]).squeeze(1)
    if target is None:
        others = logits.scatter(1, y[:, None], float("-inf")).amax(dim=1)
        return -(own - others) / (z[:, 0] - z[:, 2] + 1e-12)
    tz = logits.gather(1, target[:, None]).squeeze(1)
    return -(own - tz) / (z[:, 0] - 0.5 * (z[:, 2] + z[:, 3]) + 1e-12)


def apgd_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str) -> torch.Tensor:
    """Per-sample objective APGD ascends: CE of y (or −CE of the target), or the DLR loss."""
    if loss == "dlr":
        return dlr_loss(logits, y, target)
    if target is None:
        return F.cross_entropy(logits, y, reduction="none")
    return -F.cross_entropy(logits, target, reduction="none")


@ATTACKS.register("apgd")
class APGD(Attack):
    """``APGD(norm="linf", steps=100, loss="ce", restarts=1, rho=0.75, momentum=0.75)``; loss "ce" or "dlr"."""

    name: ClassVar[str] = "apgd"
    norms: ClassVar[tuple[str, ...]] = ("linf", "l2")

    def __init__(
        self,
        norm: str = "linf",
        *,
        steps: int = 100,
        loss: str = "ce",
        restarts: int = 1,
        rho: float = 0.75,
        momentum: float = 0.75,
    ):
        super().__init__(norm)
        if self.norm.name not in self.norms:
            raise ValueError(f"{self.name}: norm must be one of {self.norms}, got {norm!r}")
        if loss not in APGD_LOSSES:
            raise ValueError(f"{self.name}: loss must be one of {APGD_LOSSES}, got {loss!r}")
        for what, v in (("rho", rho), ("momentum", momentum)):
            if not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ValueError(f"{self.name}: {what} must be in (0, 1], got {v!r}")
        self.steps = cast(int, check_positive_int(steps, f"{self.name}: steps", allow_none=False))
        self.restarts = cast(int, check_positive_int(restarts, f"{self.name}: restarts", allow_none=False))
        self.loss, self.rho, self.momentum = loss, float(rho), float(momentum)

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "loss": self.loss, "restarts": self.restarts, "rho": self.rho, "momentum": self.momentum}

    def _check_classes(self, model: Model, targeted: bool) -> None:
        need = 4 if targeted else 3
        if self.loss == "dlr" and model.num_classes < need:
            raise ValueError(f"{self.name}: the {'targeted ' if targeted else ''}DLR loss needs ≥ {need} classes, "
                             f"the model has {model.num_classes}; use loss='ce'")

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
        self._check_classes(model, target is not None)
        out = x.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        best_loss = torch.full((len(x),), float("-inf"), device=x.device)
        for _ in range(self.restarts):
            todo = (~done).nonzero().squeeze(1)
            if todo.numel() == 0:
                break
            t = None if target is None else target[todo]
            adv, ok, loss = self.descend(model, x[todo], y[todo], eps[todo], t, t, generator)
            better = ok | (loss > best_loss[todo])
            out[todo[better]] = adv[better]
            best_loss[todo[better]] = loss[better]
            done[todo[ok]] = True
        return out

    # --- the APGD loop ---------------------------------------------------------------------------
    def descend(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: torch.Tensor,
        loss_target: torch.Tensor | None,
        success_target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One APGD run. Returns (adversarial or highest-loss point, success, its loss) per input.

        ``loss_target`` is the class the loss pulls towards (None: untargeted loss);
        ``success_target`` the class that counts as success (None: any class but y).
        """
        n = len(x)
        out = x.clone()
        out_ok = torch.zeros(n, dtype=torch.bool, device=x.device)
        out_loss = torch.full((n,), float("-inf"), device=x.device)
        feasible_all: Feasible = self.norm.feasible(x, eps, model.bounds)
        x_adv = feasible_all.project(x + self.norm.random(x, eps, generator))

        # Per active point state; ``act`` maps it back to the batch.
        act = torch.arange(n, device=x.device)
        xs, ys, es = x, y, eps
        lt = loss_target
        st = success_target
        feasible = feasible_all
        logits, loss, grad = self._loss_grad(model, x_adv, ys, lt)
        ok = is_adversarial(logits, ys, st)
        step = 2.0 * es
        x_prev = x_adv.clone()
        best_x, best_grad, best_loss = x_adv.clone(), grad.clone(), loss.clone()
        prev_loss = loss.clone()
        count = torch.zeros(n, device=x.device)
        loss_at_check = loss.clone()
        reduced_at_check = torch.zeros(n, dtype=torch.bool, device=x.device)
        marks = set(checkpoints(self.steps))
        last_mark = 0
        for k in range(self.steps + 1):
            # Record successes and drop them from the active batch.
            if ok.any():
                idx = act[ok]
                out[idx], out_ok[idx], out_loss[idx] = x_adv[ok], True, loss[ok]
                keep = ~ok
                act = act[keep]
                if act.numel() == 0:
                    return out, out_ok, out_loss
                xs, ys, es = xs[keep], ys[keep], es[keep]
                lt = None if lt is None else lt[keep]
                st = None if st is None else st[keep]
                x_adv, x_prev, grad, loss, step = x_adv[keep], x_prev[keep], grad[keep], loss[keep], step[keep]
                best_x, best_grad, best_loss, prev_loss = best_x[keep], best_grad[keep], best_loss[keep], prev_loss[keep]
                count, loss_at_check, reduced_at_check = count[keep], loss_at_check[keep], reduced_at_check[keep]
                feasible = self.norm.feasible(xs, es, model.bounds)
            if k == self.steps:
                break
            # The step: steepest ascent, projected, mixed with the previous move.
            with torch.no_grad():
                z = feasible.project(x_adv + per_sample(step, x_adv) * self.norm.steepest(grad))
                if k > 0:
                    a = self.momentum
                    z = feasible.project(x_adv + a * (z - x_adv) + (1 - a) * (x_adv - x_prev))
                x_prev, x_adv = x_adv, z
            logits, loss, grad = self._loss_grad(model, x_adv, ys, lt)
            ok = is_adversarial(logits, ys, st)
            with torch.no_grad():
                count += (loss > prev_loss).float()
                prev_loss = loss.clone()
                better = loss > best_loss
                best_x[better], best_grad[better], best_loss[better] = x_adv[better], grad[better], loss[better]
                if k + 1 in marks:
                    h = k + 1 - last_mark
                    halve = (count < self.rho * h) | (~reduced_at_check & (loss_at_check >= best_loss))
                    reduced_at_check, loss_at_check = halve, best_loss.clone()
                    step = torch.where(halve, step / 2, step)
                    x_adv[halve], grad[halve] = best_x[halve], best_grad[halve]
                    count.zero_()
                    last_mark = k + 1
        # Never broken: the highest-loss iterate.
        out[act], out_loss[act] = best_x, best_loss
        return out, out_ok, out_loss

    def _loss_grad(
        self, model: Model, x_adv: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits, per-sample loss and its input gradient: one forward, one backward."""
        x_adv = x_adv.detach().requires_grad_(True)
        logits = model(x_adv).to(x_adv.dtype)
        loss = apgd_loss(logits, y, target, self.loss)
        (grad,) = torch.autograd.grad(loss.sum(), x_adv)
        return logits.detach(), loss.detach(), grad.detach()


@ATTACKS.register("apgd-t")
class APGDT(APGD):
    """APGD-T: targeted DLR APGD against each of the clean input's ``targets`` runner-up classes in turn.

    Untargeted in effect (success: any class but y); a user-given ``target`` makes it one
    ordinary targeted run instead.
    """

    name: ClassVar[str] = "apgd-t"

    def __init__(self, norm: str = "linf", *, steps: int = 100, targets: int = 9, loss: str = "dlr",
                 restarts: int = 1, rho: float = 0.75, momentum: float = 0.75):
        super().__init__(norm, steps=steps, loss=loss, restarts=restarts, rho=rho, momentum=momentum)
        self.targets = cast(int, check_positive_int(targets, f"{self.name}: targets", allow_none=False))

    def params(self) -> dict[str, Any]:
        return {**super().params(), "targets": self.targets}

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
        if target is not None:
            return super().run(model, x, y, eps=eps, target=target, generator=generator)
        self._check_classes(model, True)
        with torch.no_grad():
            ranked = model(x).argsort(dim=1, descending=True)
        out = x.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        best_loss = torch.full((len(x),), float("-inf"), device=x.device)
        for j in range(1, min(self.targets, model.num_classes - 1) + 1):
            for _ in range(self.restarts):
                todo = (~done).nonzero().squeeze(1)
                if todo.numel() == 0:
                    return out
                tgt = ranked[todo, j]
                # A clean input already misclassified ranks y below 1st; skip targets equal to y.
                tgt = torch.where(tgt == y[todo], ranked[todo, 0], tgt)
                adv, ok, loss = self.descend(model, x[todo], y[todo], eps[todo], tgt, None, generator)
                better = ok | (loss > best_loss[todo])
                out[todo[better]] = adv[better]
                best_loss[todo[better]] = loss[better]
                done[todo[ok]] = True
        return out
