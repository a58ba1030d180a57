"""Adversarial training built on the attacks: a method holds an attack object and trains on what it crafts.

``Adversarial(attack=PGD(norm="l2", steps=7), eps=1.5)`` is the general form:
the loss α·J(x, y) + (1 − α)·J(x_adv, y), x_adv = ``attack.perturb(...)`` (the
attacks' low-level entry: no validation or verification, the model stays in
train mode, randomness from the generator ``fit`` hands in). Every norm, start,
step and stop rule an attack has is there for training too. The named methods
are configurations of it:

- ``FGSMAdversarial`` (Goodfellow et al.): α = 0.5, one FGSM step; ∇ₓJ comes from
  the clean pass that also gives J(x, y), so a batch costs two forwards and two backwards.
- ``PGDAdversarial`` (Madry et al.): α = 0, PGD from a random start. By default Wong,
  Rice & Kolter's MNIST loop (10 steps of 0.04 at ε 0.3, a sample stops moving once
  misclassified), which lets a small CNN leave the constant-prediction plateau on
  which plain PGD training at ε 0.3 stays stuck.
- ``FastFGSM`` (Wong et al.): α = 0, one step of 1.25·ε from a U(−ε, ε) start; by
  default the gradient is taken at the *unclipped* start, as in their MNIST code
  (clipping the start first makes every black-background pixel a deterministic FGSM
  corner, and fast training then overfits catastrophically on MNIST).

Crafting happens in the mode ``fit`` puts the model in, train mode, as the
reference implementations do (for a dropout net each crafting pass sees its own
mask). ``layer="name"`` perturbs that hidden layer's output instead of the input
(Goodfellow et al. compared both), see ``advlab.train.hidden``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from advlab.attacks.base import Attack
from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.pgd import PGD
from advlab.models.model import Model
from advlab.train.checks import check_count, check_eps, check_flag, check_fraction
from advlab.train.hidden import hidden_view
from advlab.train.methods import METHODS, BatchLoss, TrainingMethod


class Adversarial(TrainingMethod):
    """α·J(x, y) + (1 − α)·J(x_adv, y) with x_adv = ``attack.perturb(model, x, y, eps=eps)``.

    ``alpha = 0`` trains on the adversarial batch only (reported logits: the adversarial
    ones, i.e. robust training accuracy); ``alpha > 0`` also on the clean batch (reported
    logits: the clean ones). ``layer`` names a submodule of the network (e.g. ``"features"``)
    whose output is perturbed instead of the input; ε is then measured on that activation.
    """

    name: ClassVar[str] = "adversarial"
    #: fit's settings for this method when the caller gives none (Wong et al.'s MNIST recipe).
    recommended: ClassVar[dict[str, Any]] = {"epochs": 10, "batch_size": 100, "lr": 5e-3, "schedule": "cyclic"}

    def __init__(self, attack: Attack, eps: float, *, alpha: float = 0.0, layer: str | None = None):
        if not isinstance(attack, Attack):
            raise TypeError(f"{self.name}: attack must be an advlab Attack (e.g. PGD(norm='l2', steps=7)), got {type(attack).__name__}")
        if attack.minimization:
            raise ValueError(f"{self.name}: {attack.name} is a minimisation attack; adversarial training needs a fixed-ε one")
        self.attack = attack
        self.eps = check_eps(eps, f"{self.name}: eps")
        self.alpha = check_fraction(alpha, f"{self.name}: alpha")
        if layer is not None and (not isinstance(layer, str) or not layer):
            raise ValueError(f"{self.name}: layer must be a submodule name such as 'features', got {layer!r}")
        self.layer = layer

    @property
    def norm(self) -> str:
        return self.attack.norm.name

    def params(self) -> dict[str, Any]:
        return {"attack": self.attack.config(), "eps": self.eps, "alpha": self.alpha, **self._extra()}

    def _extra(self) -> dict[str, Any]:
        """Options shown only when not the default, so earlier configs read the same."""
        out: dict[str, Any] = {}
        if self.norm != "linf":
            out["norm"] = self.norm
        if self.layer is not None:
            out["layer"] = self.layer
        return out

    def probe_attack(self) -> tuple[Attack, float] | None:
        """What ``fit``'s robustness probe runs each epoch: a 10-step PGD (step 0.25·ε) in this norm at ε."""
        if self.layer is not None or self.eps == 0:
            return None
        return PGD(self.norm, steps=10, rel_stepsize=0.25), self.eps

    def perturb(self, model: Model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The adversarial batch this method trains on (for inspection and tests; input layer only)."""
        if self.layer is not None:
            raise ValueError(f"{self.name}: perturb shows input batches; this method perturbs layer {self.layer!r}")
        return self.attack.perturb(model, x.detach(), y, eps=self.eps, generator=generator)

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        if self.layer is not None:
            return self._hidden_loss(model, x, y, generator)
        if self.alpha == 1.0:
            logits = model(x)
            return BatchLoss(F.cross_entropy(logits, y), logits)
        if self.alpha == 0.0:
            logits = model(self.attack.perturb(model, x, y, eps=self.eps, generator=generator))
            return BatchLoss(F.cross_entropy(logits, y), logits)
        x_adv, logits, clean = self._with_clean_pass(model, x, y, generator)
        adversarial = F.cross_entropy(model(x_adv), y)
        return BatchLoss(self.alpha * clean + (1 - self.alpha) * adversarial, logits)

    def _with_clean_pass(
        self, model: Model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_adv, clean logits, clean loss); a gradient attack from x reuses the clean pass's ∇ₓJ."""
        atk = self.attack
        reuse = isinstance(atk, GradientDescent) and not atk.random_start and atk.restarts == 1 and atk.loss == "ce"
        if not reuse:
            logits = model(x)
            return self.attack.perturb(model, x, y, eps=self.eps, generator=generator), logits, F.cross_entropy(logits, y)
        assert isinstance(atk, GradientDescent)
        xr = x.detach().requires_grad_(True)
        logits = model(xr)
        clean = F.cross_entropy(logits, y)
        (grad,) = torch.autograd.grad(clean, xr, retain_graph=True)
        eps = torch.full((len(x),), self.eps, dtype=x.dtype, device=x.device)
        x_adv = atk.descend(model, x.detach(), y, eps, None, generator or torch.Generator(), grad=grad)
        return x_adv.detach(), logits, clean

    def _hidden_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None) -> BatchLoss:
        assert self.layer is not None
        with hidden_view(model, self.layer, x) as (tail, h):
            # The perturbation is made on a detached copy, then added to h so the adversarial
            # loss trains the layers before the cut too.
            eta = self.attack.perturb(tail, h.detach(), y, eps=self.eps, generator=generator) - h.detach()
            adv_logits = tail(h + eta)
            if self.alpha == 0.0:
                return BatchLoss(F.cross_entropy(adv_logits, y), adv_logits)
            clean_logits = tail(h)
        loss = self.alpha * F.cross_entropy(clean_logits, y) + (1 - self.alpha) * F.cross_entropy(adv_logits, y)
        return BatchLoss(loss, clean_logits)


class FGSMAdversarial(Adversarial):
    """Goodfellow et al.: α·J(x, y) + (1 − α)·J(x + ε·sign(∇ₓJ(x, y)), y) (another ``norm``: its FGSM step).

    ∇ₓJ comes from the clean forward pass that also gives J(x, y), so a batch costs two
    forwards and two backwards. α = 1 is standard training exactly. The reported logits are
    the clean ones. ``recommended`` is empty: ``fit``'s own defaults apply.
    """

    name = "fgsm"
    recommended: ClassVar[dict[str, Any]] = {}

    def __init__(self, eps: float, alpha: float = 0.5, *, norm: str = "linf", layer: str | None = None):
        super().__init__(GradientDescent(norm, steps=1, rel_stepsize=1.0, l1_sparsity=0.9), eps, alpha=alpha, layer=layer)

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "alpha": self.alpha, **self._extra()}


class PGDAdversarial(Adversarial):
    """Madry et al.: train on the PGD adversarial only, from a random start.

    Defaults (Wong, Rice & Kolter's MNIST loop): 10 steps of ``stepsize`` = 4/3·ε/steps
    (0.04 at ε 0.3; Madry's 40 × 0.01 spans the same 1.33·ε), and ``stop_when_fooled``: a
    sample stops moving once misclassified. Plain PGD training (``stop_when_fooled=False``)
    at ε 0.3 keeps cnn-small on the constant-prediction plateau (measured in madry-mnist).
    Each step costs one forward and one backward to the input; the reported logits are
    those of the adversarial batch (robust training accuracy).
    """

    name = "pgd"

    def __init__(
        self, eps: float, steps: int = 10, stepsize: float | None = None, random_start: bool = True,
        stop_when_fooled: bool = True, *, norm: str = "linf", layer: str | None = None,
    ):  # fmt: skip
        steps = check_count(steps, "pgd: steps")
        eps = check_eps(eps, "pgd: eps")
        if stepsize is not None:
            stepsize = check_eps(stepsize, "pgd: stepsize", positive=True)
        attack = PGD(norm, steps=steps, stepsize=stepsize, random_start=check_flag(random_start, "pgd: random_start"),
                     stop_when_fooled=check_flag(stop_when_fooled, "pgd: stop_when_fooled"))
        super().__init__(attack, eps, layer=layer)
        self.steps = steps
        self.stepsize = stepsize if stepsize is not None else attack.rel_stepsize * eps
        self.random_start, self.stop_when_fooled = random_start, stop_when_fooled

    def params(self) -> dict[str, Any]:
        return {
            "eps": self.eps, "steps": self.steps, "stepsize": self.stepsize,
            "random_start": self.random_start, "stop_when_fooled": self.stop_when_fooled, **self._extra(),
        }  # fmt: skip


class FastFGSM(Adversarial):
    """Wong, Rice & Kolter's "fast" training: one FGSM step of 1.25·ε from a U(−ε, ε) start, cyclic learning rate.

    ``clip_start=False`` (default): the gradient is taken at the unclipped start x + U(−ε, ε)
    and only the final perturbation is clipped, as in Wong et al.'s MNIST code; on MNIST's
    black background that keeps the perturbation random, where clipping the start first
    (``clip_start=True``, their CIFAR code) makes it a deterministic FGSM corner and the
    training overfits catastrophically. A batch costs two forwards and two backwards (the
    first to the input only); the reported logits are those of the adversarial batch.
    """

    name = "fast"
    default_schedule = "cyclic"

    def __init__(self, eps: float, step: float | None = None, clip_start: bool = False, *, norm: str = "linf",
                 layer: str | None = None):
        eps = check_eps(eps, "fast: eps")
        self.step = 1.25 * eps if step is None else check_eps(step, "fast: step")
        self.clip_start = check_flag(clip_start, "fast: clip_start")
        rel = self.step / eps if eps > 0 else 1.25
        attack = PGD(norm, steps=1, rel_stepsize=rel, random_start=True, clip_start=clip_start)
        super().__init__(attack, eps, layer=layer)

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps, "step": self.step, "clip_start": self.clip_start, **self._extra()}

    def random_start(self, model: Model, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """x + U(−ε, ε) (the norm's uniform ball), clipped into the bounds only with ``clip_start=True``."""
        return self.attack.norm.random_start(x.detach(), self.eps, model.bounds, generator, clip=self.clip_start)


METHODS.register("fgsm", FGSMAdversarial)
METHODS.register("pgd", PGDAdversarial)
METHODS.register("fast", FastFGSM)
