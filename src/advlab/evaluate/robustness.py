"""Robust accuracy at given ε: the worst case per point over a suite, as a cascade (AutoAttack).

``robust_accuracy(model, x, y, eps=[…], suite=Suite.preset_for("linf"), seed=0)``:

* ε values are handled in increasing order; a point broken at ε_k stays broken at every
  larger ε (its adversarial lies in the larger ball too), so each ε attacks only the
  points that survived the previous one;
* at each ε every member runs only on the points still robust, and the first member
  that breaks a point is credited with it;
* a minimisation member (FMN, …) runs once per point: its minimal adversarial answers
  every ε;
* each (ε, member) step gets its own seed, derived from ``seed``, so the whole result is
  a pure function of (model, x, y, suite, eps, seed); a ``state`` file makes it resumable:
  a killed evaluation reloads the finished steps and continues.

Sharding (for ``advlab.engine``): ``RobustAccuracy(suite, eps, seed=s).evaluate(model, x[a:b], y[a:b],
seed=derive_seed(s, shard), state=path)`` is a pure function of its arguments; ``concatenate``
joins the shards' results in order. Random starts depend on which points share a batch, so a
result is bit-identical to another run with the same shard boundaries and seeds, not to an
unsharded run (which is statistically the same evaluation). ``RobustAccuracy.update`` follows
this rule: batch 0 gets ``seed``, batch i > 0 gets ``derive_seed(seed, i)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advlab.attacks.base import EPS_TOL
from advlab.attacks.validation import as_model, check_eps, check_inputs, check_labels
from advlab.evaluate.state import CascadeState
from advlab.evaluate.suite import Suite
from advlab.models.model import Model
from advlab.progress import echo

CLEAN_WRONG = -1  # broken_by: misclassified without attack
NOT_BROKEN = -2  # broken_by: robust after the whole suite


def derive_seed(seed: int, *keys: int) -> int:
    """A seed for one step of an evaluation, independent of every other step's."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1, dtype=np.uint64)[0] >> 2)


@dataclass
class Contribution:
    """What one member did at one ε: points it ran on, points it broke, its time."""

    attack: str
    eps: float
    attacked: int
    broken: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"attack": self.attack, "eps": self.eps, "attacked": self.attacked, "broken": self.broken, "seconds": self.seconds}


@dataclass(eq=False)
class RobustnessResult:
    """Worst case over a suite per point and ε. Tensors: ``robust``/``broken_by`` K×N, ``adversarials`` K×N×…"""

    norm: str
    eps: list[float]
    suite: dict[str, Any]
    seed: int
    labels: torch.Tensor
    clean_predictions: torch.Tensor
    robust: torch.Tensor
    broken_by: torch.Tensor  # member index, CLEAN_WRONG or NOT_BROKEN
    adversarials: torch.Tensor
    contributions: list[Contribution]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def clean_accuracy(self) -> float:
        return (self.clean_predictions == self.labels).float().mean().item()

    @property
    def robust_accuracy(self) -> list[float]:
        return self.robust.float().mean(dim=1).tolist()

    @property
    def member_names(self) -> list[str]:
        return [m["name"] for m in self.suite["members"]]

    def per_attack(self) -> list[dict[str, Any]]:
        """Per ε: robust accuracy after each member of the cascade (AutoAttack's running table)."""
        rows = []
        for k, e in enumerate(self.eps):
            row: dict[str, Any] = {"eps": e, "clean": self.clean_accuracy}
            left = (self.clean_predictions == self.labels).sum().item()
            for m, name in enumerate(self.member_names):
                left -= int((self.broken_by[k] == m).sum())
                row[f"after {name}"] = left / self.n
            rows.append(row)
        return rows

    def seconds_per_attack(self) -> dict[str, float]:
        out = dict.fromkeys(self.member_names, 0.0)
        for c in self.contributions:
            out[c.attack] += c.seconds
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "norm": self.norm, "eps": self.eps, "n": self.n, "seed": self.seed, "suite": self.suite,
            "clean_accuracy": self.clean_accuracy,
            "robust_accuracy": dict(zip(map(str, self.eps), self.robust_accuracy)),
            "cascade": self.per_attack(),
            "contributions": [c.to_json() for c in self.contributions],
            "seconds_per_attack": self.seconds_per_attack(),
            "seconds": self.seconds,
        }

    def __str__(self) -> str:
        names = self.member_names
        lines = [f"robustness ({self.norm}, suite {self.suite.get('preset')}: {' → '.join(names)}) on {self.n} inputs, "
                 f"clean accuracy {self.clean_accuracy:.4f}, seed {self.seed}, {self.seconds:.1f} s",
                 f"{'eps':>8} {'robust acc':>11} " + " ".join(f"{'after ' + n:>16}" for n in names)]
        for row, acc in zip(self.per_attack(), self.robust_accuracy):
            lines.append(f"{row['eps']:>8g} {acc:>11.4f} " + " ".join(f"{row['after ' + n]:>16.4f}" for n in names))
        return "\n".join(lines)


def robust_accuracy(
    model: Any,
    x: torch.Tensor,
    y: Any,
    eps: float | list[float],
    suite: Suite | None = None,
    *,
    norm: str = "linf",
    preset: str = "standard",
    seed: int = 0,
    batch_size: int | None = None,
    state: str | Path | None = None,
    quiet: bool = True,
) -> RobustnessResult:
    """The worst case per point over ``suite`` (default: the ``preset`` suite of ``norm``) at each ε."""
    return RobustAccuracy(suite if suite is not None else Suite.preset_for(norm, preset), eps, seed=seed,
                          batch_size=batch_size, quiet=quiet).evaluate(model, x, y, state=state)


class RobustAccuracy:
    """Class form: configure once (suite, ε, seed), then ``update(model, x, y)`` batches and ``compute()``."""

    def __init__(self, suite: Suite, eps: float | list[float], *, seed: int = 0, batch_size: int | None = None,
                 quiet: bool = True):
        if not isinstance(suite, Suite):
            raise TypeError(f"RobustAccuracy: suite must be a Suite, got {type(suite).__name__}")
        eps_list = check_eps(eps, required=True, name="robust_accuracy")
        if eps_list is None:
            raise ValueError("RobustAccuracy: eps is required")
        self.suite, self.eps = suite, sorted(eps_list)
        self.seed, self.batch_size, self.quiet = int(seed), batch_size, quiet
        self._parts: list[RobustnessResult] = []

    def update(self, model: Any, x: torch.Tensor, y: Any) -> RobustnessResult:
        """Evaluate one more batch (seeded by its position) and keep it for ``compute``."""
        part = self.evaluate(model, x, y, seed=derive_seed(self.seed, len(self._parts)) if self._parts else self.seed)
        self._parts.append(part)
        return part

    def compute(self) -> RobustnessResult:
        if not self._parts:
            raise ValueError("RobustAccuracy.compute: no batch evaluated yet; call update(model, x, y) first")
        return concatenate(self._parts)

    def reset(self) -> None:
        self._parts = []

    def evaluate(self, model: Any, x: torch.Tensor, y: Any, *, seed: int | None = None,
                 state: str | Path | None = None) -> RobustnessResult:
        """One cascade over all of ``x`` (a pure function of its arguments and the seed)."""
        seed = self.seed if seed is None else int(seed)
        model = as_model(model, x)
        x = check_inputs(model, x)
        labels = check_labels(model, y, len(x), "y")
        t0 = time.perf_counter()
        st = CascadeState.start(state, model, x, labels, self.suite, self.eps, seed)
        for k, e in enumerate(self.eps):
            for m, member in enumerate(self.suite.members):
                if st.done(k, m):
                    continue
                t = time.perf_counter()
                attacked, broken = self._step(model, x, labels, st, k, m, member.attack, seed)
                st.finish(k, m, Contribution(member.name, e, attacked, broken, time.perf_counter() - t))
                echo(f"  ε {e:g} {member.name}: ran on {attacked}, broke {broken}, "
                     f"robust {st.robust[k].float().mean().item():.4f}", self.quiet)
        return RobustnessResult(
            norm=self.suite.norm, eps=list(self.eps), suite=self.suite.config(), seed=seed, labels=labels,
            clean_predictions=st.clean_predictions, robust=st.robust.clone(), broken_by=st.broken_by.clone(),
            adversarials=st.adversarials.clone(), contributions=list(st.contributions),
            seconds=st.seconds_before + time.perf_counter() - t0,
        )

    def _step(self, model: Model, x: torch.Tensor, y: torch.Tensor, st: CascadeState, k: int, m: int,
              attack: Any, seed: int) -> tuple[int, int]:
        if m == 0 and k > 0:  # broken at a smaller ε: broken here too
            st.inherit(k)
        idx = st.robust[k].nonzero().squeeze(1)
        if idx.numel() == 0:
            return 0, 0
        e = self.eps[k]
        if attack.minimization:
            todo = idx[~st.min_done(m)[idx]]
            if todo.numel():
                res = attack(model, x[todo], y[todo], seed=derive_seed(seed, 1_000_000, m), batch_size=self.batch_size)
                st.store_minimal(m, todo, res.adversarials[0], res.min_distances)
            dist, best = st.minimal(m)
            hit = dist[idx] <= e * (1 + 1e-5) + EPS_TOL
            adv = best[idx]
        else:
            res = attack(model, x[idx], y[idx], eps=[e], seed=derive_seed(seed, k, m), batch_size=self.batch_size)
            hit, adv = res.success[0], res.adversarials[0]
        st.mark_broken(k, idx[hit], adv[hit], m)
        return int(idx.numel()), int(hit.sum())


def concatenate(parts: list[RobustnessResult]) -> RobustnessResult:
    """Results on consecutive slices of a data set as one (same suite and ε)."""
    first = parts[0]
    for p in parts[1:]:
        if p.eps != first.eps or p.suite != first.suite:
            raise ValueError("concatenate: the parts were evaluated with different ε or suites")
    return RobustnessResult(
        norm=first.norm, eps=first.eps, suite=first.suite, seed=first.seed,
        labels=torch.cat([p.labels for p in parts]), clean_predictions=torch.cat([p.clean_predictions for p in parts]),
        robust=torch.cat([p.robust for p in parts], dim=1), broken_by=torch.cat([p.broken_by for p in parts], dim=1),
        adversarials=torch.cat([p.adversarials for p in parts], dim=1),
        contributions=[c for p in parts for c in p.contributions], seconds=sum(p.seconds for p in parts),
    )


def accuracy_at(min_distances: torch.Tensor, correct: torch.Tensor, eps: list[float]) -> list[float]:
    """Robust accuracy at each ε from minimal perturbations (inf: none found; misclassified count as broken)."""
    d = torch.where(correct, min_distances, torch.zeros_like(min_distances))
    return [((d > e * (1 + 1e-5) + EPS_TOL) & correct).float().mean().item() if math.isfinite(e) else 0.0 for e in eps]
