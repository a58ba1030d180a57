"""The worst case per input over attacks already run: robust only if every attack failed.

``worst_case([pgd_result, fmn_result], eps=[0.1, 0.3])`` combines fixed-ε results (their
own ε list must contain each ε asked for) and minimisation results (robust at ε when the
minimal adversarial is larger than ε, or none was found). Use ``robust_accuracy`` to run a
cascade; this is for results computed separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from advlab.attacks.base import EPS_TOL
from advlab.attacks.result import AttackResult


@dataclass(eq=False)
class WorstCase:
    eps: list[float]
    robust: torch.Tensor  # K×N: correct after every attack
    attacks: list[str]

    @property
    def robust_accuracy(self) -> list[float]:
        return self.robust.float().mean(dim=1).tolist()


def worst_case(results: Sequence[AttackResult], eps: Sequence[float]) -> WorstCase:
    if not results:
        raise ValueError("worst_case: no attack results given")
    labels = results[0].labels
    for r in results:
        if not torch.equal(r.labels, labels):
            raise ValueError(f"worst_case: {r.attack} was run on other inputs or labels")
    eps = [float(e) for e in eps]
    robust = (results[0].clean_predictions == labels).repeat(len(eps), 1)
    for r in results:
        for k, e in enumerate(eps):
            if r.min_distances is not None:  # a minimisation attack: its minimal adversarial answers every ε
                robust[k] &= r.min_distances > e * (1 + 1e-5) + EPS_TOL
            elif r.eps is None:
                raise ValueError(f"worst_case: {r.attack} has neither ε values nor minimal distances")
            else:
                match = [j for j, v in enumerate(r.eps) if abs(v - e) <= 1e-9]
                if not match:
                    raise ValueError(f"worst_case: {r.attack} was not run at ε = {e:g} (its ε: {r.eps})")
                robust[k] &= r.predictions[match[0]] == labels
    return WorstCase(eps, robust, [r.attack for r in results])
