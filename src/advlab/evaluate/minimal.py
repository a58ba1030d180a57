"""Minimal perturbations per norm: distributions, medians and accuracy at thresholds (the ABS paper's table).

``minimal_perturbations(model, x, y, attacks={"l2": [FMN("l2"), DDN()], "linf": [FMN("linf")]})``
runs every minimisation attack and keeps, per input and norm, the smallest verified
adversarial over the attacks (the worst case). Inputs the model already gets wrong have
distance 0; inputs no attack broke have distance ∞ (counted as robust at every threshold).
The table reports, per norm, the median distance over all inputs (Schott et al., 2019,
"Towards the first adversarially robust neural network model on MNIST") and the accuracy
at the norm's threshold (their MNIST values: L0 12 pixels, L2 1.5, L∞ 0.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from advlab.attacks.base import Attack
from advlab.attacks.fmn import FMN
from advlab.evaluate.robustness import accuracy_at, derive_seed

#: Schott et al.'s MNIST thresholds for "accuracy at ε".
ABS_THRESHOLDS: dict[str, float] = {"l0": 12.0, "l2": 1.5, "linf": 0.3}


@dataclass(eq=False)
class MinimalPerturbations:
    """Per norm: N smallest adversarial distances (0: misclassified clean, inf: never broken)."""

    distances: dict[str, torch.Tensor]
    correct: torch.Tensor
    attacks: dict[str, list[dict[str, Any]]]
    thresholds: dict[str, float]
    seconds: dict[str, float] = field(default_factory=dict)

    def median(self, norm: str) -> float:
        """The median over all inputs (misclassified ones at 0, unbroken ones at ∞), as in the ABS paper."""
        d = self.distances[norm]
        return d.sort().values[(len(d) - 1) // 2].item() if len(d) else math.nan

    def accuracy(self, norm: str, eps: float | None = None) -> float:
        e = self.thresholds.get(norm, math.nan) if eps is None else eps
        return accuracy_at(self.distances[norm], self.correct, [e])[0]

    def found(self, norm: str) -> float:
        """Fraction of correctly classified inputs for which some attack found an adversarial."""
        c = self.correct
        return torch.isfinite(self.distances[norm][c]).float().mean().item() if c.any() else math.nan

    def table(self) -> list[dict[str, Any]]:
        return [{"norm": n, "median": self.median(n), "threshold": self.thresholds.get(n),
                 "accuracy at threshold": self.accuracy(n), "found": self.found(n),
                 "attacks": ", ".join(a["attack"] for a in self.attacks[n])} for n in self.distances]

    def to_json(self) -> dict[str, Any]:
        return {"clean_accuracy": self.correct.float().mean().item(), "table": self.table(), "seconds": self.seconds}

    def __str__(self) -> str:
        lines = [f"minimal perturbations on {len(self.correct)} inputs (clean accuracy {self.correct.float().mean():.4f})",
                 f"{'norm':>6} {'median':>9} {'threshold':>10} {'acc@thr':>8} {'found':>6}"]
        for r in self.table():
            thr = "—" if r["threshold"] is None else f"{r['threshold']:g}"
            lines.append(f"{r['norm']:>6} {r['median']:>9.4g} {thr:>10} {r['accuracy at threshold']:>8.4f} {r['found']:>6.3f}")
        return "\n".join(lines)


def default_attacks(norms: Sequence[str]) -> dict[str, list[Attack]]:
    return {n: [FMN(n, steps=100)] for n in norms}


def minimal_perturbations(
    model: Any,
    x: torch.Tensor,
    y: Any,
    attacks: Mapping[str, Sequence[Attack]] | None = None,
    *,
    norms: Sequence[str] = ("l0", "l2", "linf"),
    thresholds: Mapping[str, float] | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    quiet: bool = True,
) -> MinimalPerturbations:
    """The worst case per input over ``attacks`` (default: FMN per norm), per norm."""
    attacks = dict(attacks) if attacks is not None else default_attacks(norms)
    dists: dict[str, torch.Tensor] = {}
    configs: dict[str, list[dict[str, Any]]] = {}
    seconds: dict[str, float] = {}
    correct: torch.Tensor | None = None
    for i, (norm, members) in enumerate(attacks.items()):
        if not members:
            raise ValueError(f"minimal_perturbations: no attack given for norm {norm!r}")
        best: torch.Tensor | None = None
        for j, attack in enumerate(members):
            if not attack.minimization:
                raise ValueError(f"minimal_perturbations: {attack.name} is not a minimisation attack")
            if attack.norm.name != norm:
                raise ValueError(f"minimal_perturbations: {attack.name} minimises {attack.norm.name}, listed under {norm!r}")
            res = attack(model, x, y, seed=derive_seed(seed, i, j), batch_size=batch_size, quiet=quiet)
            if res.min_distances is None:
                raise RuntimeError(f"minimal_perturbations: {attack.name} returned no minimal distances")
            correct = res.clean_predictions == res.labels
            d = torch.where(correct, res.min_distances, torch.zeros_like(res.min_distances))
            best = d if best is None else torch.minimum(best, d)
            seconds[f"{norm}:{attack.name}"] = res.seconds
        if best is not None:
            dists[norm] = best
        configs[norm] = [a.config() for a in members]
    if correct is None:
        raise ValueError("minimal_perturbations: no attacks given")
    thr = {**ABS_THRESHOLDS, **(thresholds or {})}
    return MinimalPerturbations(dists, correct, configs, {n: thr[n] for n in dists if n in thr}, seconds)


def accuracy_curve(result: MinimalPerturbations, norm: str, eps: Sequence[float]) -> list[float]:
    """Robust accuracy over an ε grid from one set of minimal perturbations (one run answers the curve)."""
    return accuracy_at(result.distances[norm], result.correct, list(eps))
