"""Sanity checks of an evaluation (Carlini et al., 2019, "On evaluating adversarial robustness";
Athalye et al., 2018, "Obfuscated gradients give a false sense of security").

Each check passes or warns with one plain sentence (or is skipped, saying why):

* ``large_eps``: accuracy falls to ~0 once ε is large (the whole input box);
* ``iterative``: an iterative attack does at least as well as a single step (FGSM);
* ``converged``: 4× the steps and 2 restarts do not lower accuracy further;
* ``blackbox``: a black-box attack does not beat the white-box one (skipped without one);
* ``noise``: random noise of the same size is weaker than the attack;
* ``gradients``: input gradients are finite and non-zero;
* ``targeted``: a targeted attack at large ε reaches every class.

A model that masks its gradients (binarised inputs, catastrophic overfitting) trips
several of them; a model that is robust for real passes them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from advlab.attacks.apgd import APGD
from advlab.attacks.base import Attack
from advlab.attacks.fgsm import FGSM
from advlab.attacks.margins import widest_perturbation
from advlab.attacks.norms import get_norm
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import as_model, check_eps, check_inputs, check_labels
from advlab.evaluate.robustness import derive_seed
from advlab.models.model import Model

CHECKS = ("large_eps", "iterative", "converged", "blackbox", "noise", "gradients", "targeted")


@dataclass
class Check:
    name: str
    status: str  # pass | warn | skip
    message: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status != "warn"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, "values": self.values}


@dataclass
class SanityReport:
    norm: str
    eps: float
    n: int
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r}; checks are {[c.name for c in self.checks]}")

    def to_json(self) -> dict[str, Any]:
        return {"norm": self.norm, "eps": self.eps, "n": self.n, "passed": self.passed, "checks": [c.to_json() for c in self.checks]}

    def __str__(self) -> str:
        return "\n".join([f"sanity checks ({self.norm}, ε {self.eps:g}, {self.n} inputs): "
                          f"{'all passed' if self.passed else f'{len(self.warnings)} warning(s)'}"]
                         + [f"  [{c.status:>4}] {c.name}: {c.message}" for c in self.checks])


def _tol(n: int) -> float:
    """Accuracy differences smaller than this are noise: one input, or one percentage point."""
    return max(0.01, 1.0 / max(n, 1))


# --- decisions (pure functions of measured numbers) ---------------------------------------------------
def decide_large_eps(acc: float, eps: float, limit: float = 0.05) -> Check:
    if acc <= limit:
        return Check("large_eps", "pass", f"At ε = {eps:g} accuracy falls to {100 * acc:.1f}%, as it should.", {"accuracy": acc, "eps": eps})
    return Check("large_eps", "warn", f"At ε = {eps:g}, where any input can be reached, accuracy is still {100 * acc:.1f}%: "
                 "the attack is failing, not the model succeeding (masked gradients?).", {"accuracy": acc, "eps": eps})


def decide_iterative(single: float, iterative: float, n: int) -> Check:
    v = {"single_step": single, "iterative": iterative}
    if single < iterative - _tol(n):
        return Check("iterative", "warn", f"A single FGSM step ({100 * single:.1f}%) beats the iterative attack "
                     f"({100 * iterative:.1f}%): the iterative attack is misled, a sign of masked gradients.", v)
    return Check("iterative", "pass", f"The iterative attack ({100 * iterative:.1f}%) is at least as strong as one step ({100 * single:.1f}%).", v)


def decide_converged(base: float, more: float, n: int) -> Check:
    v = {"base": base, "more": more}
    if more < base - _tol(n):
        return Check("converged", "warn", f"More steps and restarts still lower accuracy ({100 * base:.1f}% → {100 * more:.1f}%): "
                     "the attack has not converged; use a stronger one.", v)
    return Check("converged", "pass", f"More steps and restarts no longer help ({100 * base:.1f}% → {100 * more:.1f}%).", v)


def decide_blackbox(blackbox: float, whitebox: float, n: int) -> Check:
    v = {"blackbox": blackbox, "whitebox": whitebox}
    if blackbox < whitebox - _tol(n):
        return Check("blackbox", "warn", f"A black-box attack ({100 * blackbox:.1f}%) beats the white-box one "
                     f"({100 * whitebox:.1f}%): the gradients are misleading.", v)
    return Check("blackbox", "pass", f"The black-box attack ({100 * blackbox:.1f}%) is no stronger than the white-box one ({100 * whitebox:.1f}%).", v)


def decide_noise(noise: float, attack: float, n: int) -> Check:
    v = {"noise": noise, "attack": attack}
    if noise < attack - _tol(n):
        return Check("noise", "warn", f"Random noise of the same size ({100 * noise:.1f}%) beats the attack ({100 * attack:.1f}%): "
                     "the attack is broken or the gradients are masked.", v)
    return Check("noise", "pass", f"Random noise of the same size ({100 * noise:.1f}%) is weaker than the attack ({100 * attack:.1f}%).", v)


def decide_gradients(nonfinite: float, zero: float, limit: float = 0.1) -> Check:
    v = {"nonfinite": nonfinite, "zero": zero}
    if nonfinite > 0:
        return Check("gradients", "warn", f"{100 * nonfinite:.1f}% of the input gradients are NaN or infinite.", v)
    if zero > limit:
        return Check("gradients", "warn", f"{100 * zero:.1f}% of the inputs have a zero gradient: gradient attacks cannot "
                     "move them (shattered or masked gradients).", v)
    return Check("gradients", "pass", f"Input gradients are finite and non-zero ({100 * zero:.1f}% zero).", v)


def decide_targeted(reached: list[int], classes: int) -> Check:
    missing = [c for c in range(classes) if c not in reached]
    v = {"reached": reached, "missing": missing}
    if missing:
        return Check("targeted", "warn", f"A targeted attack at large ε never reached class(es) {missing}.", v)
    return Check("targeted", "pass", f"A targeted attack at large ε reaches all {classes} classes.", v)


# --- the measurements -------------------------------------------------------------------------------
def sanity_checks(
    model: Any,
    x: torch.Tensor,
    y: Any,
    eps: float,
    *,
    norm: str = "linf",
    steps: int = 50,
    blackbox: Attack | None = None,
    noise_draws: int = 10,
    seed: int = 0,
    batch_size: int | None = None,
) -> SanityReport:
    """Run every check on ``x`` at ``eps`` (L∞ or L2); ``blackbox`` defaults to a registered ``square`` attack."""
    model = as_model(model, x)
    x = check_inputs(model, x)
    labels = check_labels(model, y, len(x), "y")
    if not isinstance(eps, (int, float)) or isinstance(eps, bool):
        raise TypeError(f"sanity_checks: eps must be one number, got {type(eps).__name__}")
    (e,) = check_eps(float(eps), required=True, name="sanity_checks") or [0.0]
    nrm = get_norm(norm).name
    if nrm not in ("linf", "l2"):
        raise ValueError(f"sanity_checks: norm must be linf or l2, got {norm!r}")
    n = len(x)
    kw: dict[str, Any] = {"batch_size": batch_size}

    def acc(attack: Attack, eps_value: float, key: int) -> float:
        return attack(model, x, labels, eps=[eps_value], seed=derive_seed(seed, key), **kw).robust_accuracy[0].item()

    white = acc(APGD(nrm, steps=steps), e, 0)
    big = get_norm(nrm).distance(widest_perturbation(model, x)).max().item()
    checks = [
        decide_large_eps(acc(APGD(nrm, steps=steps), big, 1), big),
        decide_iterative(acc(FGSM(nrm), e, 2), white, n),
        decide_converged(white, acc(APGD(nrm, steps=4 * steps, restarts=2), e, 3), n),
    ]
    if blackbox is None and "square" in ATTACKS:
        blackbox = ATTACKS.create("square", norm=nrm)
    if blackbox is None:
        checks.append(Check("blackbox", "skip", "No black-box attack available (pass one, or register 'square')."))
    else:
        checks.append(decide_blackbox(acc(blackbox, e, 4), white, n))
    checks.append(decide_noise(_noise_accuracy(model, x, labels, nrm, e, noise_draws, seed), white, n))
    checks.append(decide_gradients(*_gradient_stats(model, x, labels)))
    checks.append(decide_targeted(_reached(model, x, labels, nrm, big, steps, seed), model.num_classes))
    return SanityReport(nrm, e, n, checks)


@torch.no_grad()
def _noise_accuracy(model: Model, x: torch.Tensor, y: torch.Tensor, norm: str, eps: float, draws: int, seed: int) -> float:
    """Accuracy when each input survives ``draws`` random points of the ε-sphere (L∞: random corners)."""
    g = torch.Generator().manual_seed(derive_seed(seed, 5))
    nrm = get_norm(norm)
    ok = model.predict(x).cpu() == y.cpu()
    for _ in range(draws):
        d = nrm.steepest(torch.randn(x.shape, generator=g)) * eps  # on the sphere: as large as the attack may go
        ok &= model.predict(model.bounds.clip(x + d.to(x))).cpu() == y.cpu()
    return ok.float().mean().item()


def _gradient_stats(model: Model, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    xg = x.to(model.device).detach().requires_grad_(True)
    loss = F.cross_entropy(model(xg).float(), y.to(model.device), reduction="sum")
    (grad,) = torch.autograd.grad(loss, xg)
    flat = grad.flatten(1)
    nonfinite = (~torch.isfinite(flat)).any(dim=1).float().mean().item()
    zero = (flat.abs().amax(dim=1) == 0).float().mean().item()
    return nonfinite, zero


def _reached(model: Model, x: torch.Tensor, y: torch.Tensor, norm: str, eps: float, steps: int, seed: int,
             per_class: int = 5) -> list[int]:
    """Classes a targeted APGD-CE at ``eps`` reaches from up to ``per_class`` inputs of other classes."""
    reached: set[int] = set()
    attack = APGD(norm, steps=steps)
    for c in range(model.num_classes):
        src = (y != c).nonzero().squeeze(1)[:per_class]
        if src.numel() == 0:
            continue
        t = torch.full((len(src),), c, dtype=torch.long)
        res = attack(model, x[src], y[src], eps=[eps], target=t, seed=derive_seed(seed, 6, c))
        if res.success[0].any():
            reached.add(c)
    return sorted(reached)
