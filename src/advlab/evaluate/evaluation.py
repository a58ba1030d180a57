"""A complete evaluation of one model, RobustBench-like: what ``advlab evaluate`` computes and saves.

``evaluate_model(model, x, y, norm="linf", eps=[…], preset="standard", seed=0)`` runs

1. the suite's cascade at every ε (``robust_accuracy``; resumable through ``state``),
2. minimal perturbations per norm (FMN; median and accuracy at the ABS thresholds),
3. confidence on Gaussian and uniform noise,
4. the sanity checks at the largest ε on the first ``check_n`` inputs,

each a pure function of (model, x, y, options, seed), and returns an ``Evaluation``
whose ``to_json`` is the ``evaluation.json`` format.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import advlab
from advlab.attacks.validation import as_model
from advlab.evaluate.checks import SanityReport, sanity_checks
from advlab.evaluate.confidence import ConfidenceResult, noise_confidence
from advlab.evaluate.minimal import MinimalPerturbations, minimal_perturbations
from advlab.evaluate.robustness import RobustnessResult, derive_seed, robust_accuracy
from advlab.evaluate.suite import Suite


@dataclass(eq=False)
class Evaluation:
    model: dict[str, Any]
    data: dict[str, Any]
    robustness: RobustnessResult
    minimal: MinimalPerturbations | None
    noise: list[ConfidenceResult]
    checks: SanityReport | None
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        r = self.robustness
        return {
            "advlab_version": advlab.__version__,
            "model": self.model,
            "data": self.data,
            "n": r.n,
            "seed": r.seed,
            "norm": r.norm,
            "clean_accuracy": r.clean_accuracy,
            "robust_accuracy": dict(zip(map(str, r.eps), r.robust_accuracy)),
            "suite": r.suite,
            "cascade": r.per_attack(),
            "contributions": [c.to_json() for c in r.contributions],
            "seconds_per_attack": r.seconds_per_attack(),
            "minimal_perturbations": None if self.minimal is None else self.minimal.to_json(),
            "noise_confidence": [c.to_json() for c in self.noise],
            "checks": None if self.checks is None else self.checks.to_json(),
            "seconds": self.seconds,
            **self.extra,
        }

    def __str__(self) -> str:
        parts = [str(self.robustness)]
        if self.minimal is not None:
            parts.append(str(self.minimal))
        parts += [str(c) for c in self.noise]
        if self.checks is not None:
            parts.append(str(self.checks))
        return "\n".join(parts)


def evaluate_model(
    model: Any,
    x: torch.Tensor,
    y: Any,
    *,
    eps: Sequence[float],
    norm: str = "linf",
    preset: str = "standard",
    suite: Suite | None = None,
    seed: int = 0,
    medians: Sequence[str] | None = None,
    check_n: int = 200,
    noise_n: int = 1000,
    batch_size: int | None = None,
    state: str | Path | None = None,
    model_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
    quiet: bool = True,
) -> Evaluation:
    """Cascade, minimal perturbations (``medians`` norms; default the evaluated one; ``[]`` none),
    noise confidence (``noise_n`` = 0: none) and sanity checks (``check_n`` = 0: none)."""
    t0 = time.perf_counter()
    model = as_model(model, x)
    suite = suite if suite is not None else Suite.preset_for(norm, preset)
    rob = robust_accuracy(model, x, y, list(eps), suite, seed=seed, batch_size=batch_size, state=state, quiet=quiet)
    norms = [suite.norm] if medians is None else list(medians)
    minimal = (minimal_perturbations(model, x, y, norms=norms, seed=derive_seed(seed, 2_000_000),
                                     batch_size=batch_size, quiet=quiet) if norms else None)
    noise = ([noise_confidence(model, kind, noise_n, seed=derive_seed(seed, 3_000_000, i)) for i, kind in
              enumerate(("gaussian", "uniform"))] if noise_n > 0 else [])
    checks = None
    if check_n > 0 and suite.norm in ("linf", "l2"):
        m = min(check_n, len(x))
        checks = sanity_checks(model, x[:m], torch.as_tensor(y)[:m], max(eps), norm=suite.norm,
                               seed=derive_seed(seed, 4_000_000), batch_size=batch_size)
    info = model_info if model_info is not None else {"spec": getattr(model, "spec", {})}
    return Evaluation(info, data_info or {}, rob, minimal, noise, checks, time.perf_counter() - t0)
