"""CMA-ES over pixels (the ``cma`` package), one evolution strategy per class, run in lockstep.

Each class's search minimises −log p(class | x) over z ∈ R^d with
x = lower + (upper − lower)·sigmoid(z); every generation asks all still-running
strategies for their populations and evaluates them in one batch. Separable
(diagonal) CMA-ES by default: the full covariance of a 784-pixel search is
large and slow to adapt. Only probabilities are used.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from advlab.fooling.base import FoolingStrategy, Found, box, check_float, check_int, log_probs


class CMAES(FoolingStrategy):
    name: ClassVar[str] = "cma"

    def __init__(self, evaluations: int = 20000, *, popsize: int | None = None, sigma: float = 1.0, diagonal: bool = True):
        self.evaluations = check_int(evaluations, "cma: evaluations")
        self.popsize = None if popsize is None else check_int(popsize, "cma: popsize", minimum=2)
        self.sigma = check_float(sigma, "cma: sigma", strict=True)
        if not isinstance(diagonal, bool):
            raise TypeError(f"cma: diagonal must be True or False, got {diagonal!r}")
        self.diagonal = diagonal

    def params(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations, "popsize": self.popsize, "sigma": self.sigma, "diagonal": self.diagonal}

    def search(self, model: Any, targets: torch.Tensor, *, required: float, generator: torch.Generator,
               reference: torch.Tensor | None, quiet: bool) -> Found:  # fmt: skip
        try:
            import cma
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ValueError("cma: the CMA-ES strategy needs the 'cma' package (pip install 'advlab[fooling]')") from exc
        shape = tuple(model.input_shape)
        d = math.prod(shape)
        lo, hi = box(model)
        seeds = torch.randint(1, 2**31 - 1, (len(targets),), generator=generator).tolist()
        start = torch.randn(len(targets), d, generator=generator).numpy() * 0.1
        options = {"CMA_diagonal": self.diagonal, "verbose": -9, "maxfevals": self.evaluations, "tolfun": 0, "tolx": 0}
        if self.popsize is not None:
            options["popsize"] = self.popsize
        strategies = [cma.CMAEvolutionStrategy(start[i], self.sigma, {**options, "seed": seeds[i]}) for i in range(len(targets))]
        best_z = start.copy()
        best_f = np.full(len(targets), np.inf)
        used = np.zeros(len(targets), dtype=np.int64)
        reached = np.full(len(targets), -1, dtype=np.int64)
        generations = np.zeros(len(targets), dtype=np.int64)
        threshold = -math.log(required)
        active = [i for i in range(len(targets)) if strategies[i].popsize <= self.evaluations]
        while active:
            asked = {i: strategies[i].ask() for i in active}
            z = torch.as_tensor(np.concatenate([np.asarray(asked[i]) for i in active]), dtype=torch.float32)
            x = lo + (hi - lo) * torch.sigmoid(z.view(-1, *shape).to(lo.device))
            scores = log_probs(model, x).cpu().numpy()
            row = 0
            for i in active:
                pop = len(asked[i])
                f = -scores[row : row + pop, int(targets[i])].astype(np.float64)
                row += pop
                strategies[i].tell(asked[i], f.tolist())
                used[i] += pop
                generations[i] += 1
                j = int(np.argmin(f))
                if f[j] < best_f[i]:
                    best_f[i], best_z[i] = f[j], np.asarray(asked[i][j])
                if reached[i] < 0 and best_f[i] <= threshold:
                    reached[i] = used[i]
            # the next generation must fit in the budget (never more than ``evaluations`` per class)
            active = [i for i in active if reached[i] < 0 and used[i] + strategies[i].popsize <= self.evaluations]
        z = torch.as_tensor(best_z, dtype=torch.float32).view(-1, *shape).to(lo.device)
        images = lo + (hi - lo) * torch.sigmoid(z)
        queries = torch.as_tensor(np.where(reached >= 0, reached, used))
        return Found(images, queries, torch.as_tensor(generations), {"popsize": int(strategies[0].popsize)})
