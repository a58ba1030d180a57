"""MAP-Elites with one niche per class (Nguyen, Yosinski & Clune, 2015).

The archive keeps, for every class, the best genome found so far by that
class's probability. Each generation draws ``batch`` parents uniformly from the
elites of the requested classes, makes children (uniform crossover with another
elite with probability ``crossover`` when the encoding supports it, then
mutation), renders them and evaluates them in one batch; a child replaces the
elite of *every* niche it beats, since one evaluation scores all classes. Only
the model's probabilities are used. The search stops when every requested
class has an elite with p ≥ the required confidence, or after ``generations``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from advlab.fooling.base import FoolingStrategy, Found, box, check_float, check_int, log_probs
from advlab.fooling.cppn import CPPNEncoding
from advlab.fooling.encoding import DirectEncoding, Encoding
from advlab.fooling.nearest import nearest_distances
from advlab.progress import progress


class MapElites(FoolingStrategy):
    """Evolve fooling images in ``encoding``; ``batch`` children per generation, at most ``generations`` generations."""

    name: ClassVar[str] = "evolve"

    def __init__(self, encoding: Encoding, *, generations: int = 200, batch: int = 100, crossover: float = 0.5,
                 min_distance: float = 0.0, unlike: tuple[torch.Tensor, torch.Tensor] | None = None):  # fmt: skip
        if not isinstance(encoding, Encoding):
            raise TypeError(f"map-elites: expected an Encoding (DirectEncoding, CPPNEncoding), got {type(encoding).__name__}")
        self.encoding = encoding
        self.generations = check_int(generations, "map-elites: generations", minimum=0)
        self.batch = check_int(batch, "map-elites: batch")
        self.crossover = check_float(crossover, "map-elites: crossover")
        if self.crossover > 1:
            raise ValueError(f"map-elites: crossover must be a probability in [0, 1], got {crossover!r}")
        self.min_distance = check_float(min_distance, "map-elites: min_distance")
        if unlike is not None and (len(unlike) != 2 or len(unlike[0]) != len(unlike[1]) or len(unlike[0]) == 0):
            raise ValueError("map-elites: unlike must be (inputs, labels) of equal, non-zero length")
        self.unlike = unlike

    @property
    def label(self) -> str:
        return f"evolve-{self.encoding.name}"

    def params(self) -> dict[str, Any]:
        return {"encoding": self.encoding.name, "generations": self.generations, "batch": self.batch,
                "crossover": self.crossover if self.encoding.crosses else 0.0, "min_distance": self.min_distance,
                "unlike": self.unlike is not None, **self.encoding.params()}  # fmt: skip

    def search(self, model: Any, targets: torch.Tensor, *, required: float, generator: torch.Generator,
               reference: torch.Tensor | None, quiet: bool) -> Found:  # fmt: skip
        if self.min_distance > 0 and reference is None:
            raise ValueError("map-elites: min_distance needs reference inputs (the training images)")
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        shape = tuple(model.input_shape)
        lo, hi = box(model)
        k = model.num_classes
        elites: list[Any] = [None] * k
        fitness = torch.full((k,), -float("inf"))
        wanted = targets.tolist()
        reached_queries = torch.full((k,), -1, dtype=torch.long)
        reached_generation = torch.full((k,), -1, dtype=torch.long)
        threshold = float(np.log(required))
        queries = 0

        def evaluate(children: list[Any], generation: int) -> None:
            nonlocal queries
            x = lo + (hi - lo) * self.encoding.render(children, shape).to(lo.device)
            scores = log_probs(model, x).cpu()
            queries += len(children)
            if self.min_distance > 0 and reference is not None:
                too_close = nearest_distances(x.cpu(), reference)[0] < self.min_distance
                scores[too_close] = -float("inf")
            if self.unlike is not None:
                _, nearest = nearest_distances(x.cpu(), self.unlike[0])
                scores[torch.arange(len(children)), self.unlike[1][nearest].long()] = -float("inf")
            best, idx = scores.max(dim=0)
            for c in range(k):
                if float(best[c]) > float(fitness[c]) and float(best[c]) > -float("inf"):
                    fitness[c] = best[c]
                    elites[c] = children[int(idx[c])]
                if reached_queries[c] < 0 and float(fitness[c]) >= threshold:
                    reached_queries[c], reached_generation[c] = queries, generation

        evaluate(self.encoding.random(self.batch, shape, rng), 0)
        if all(e is None for e in elites):  # every first child too close to the data: keep drawing until one is not
            for _ in range(100):
                evaluate(self.encoding.random(self.batch, shape, rng), 0)
                if any(elites[c] is not None for c in wanted):
                    break
            else:
                raise ValueError(f"map-elites: no random genome lies ≥ {self.min_distance:g} from the reference inputs")
        generation = 0
        with progress(quiet, transient=True) as bar:
            task = bar.add_task(self.label, total=self.generations, info="")
            for generation in range(1, self.generations + 1):
                if all(reached_queries[c] >= 0 for c in wanted):
                    generation -= 1
                    break
                pool = [elites[c] for c in wanted if elites[c] is not None] or [e for e in elites if e is not None]
                children = []
                for _ in range(self.batch):
                    parent = pool[int(rng.integers(len(pool)))]
                    if self.encoding.crosses and len(pool) > 1 and rng.random() < self.crossover:
                        parent = self.encoding.crossover(parent, pool[int(rng.integers(len(pool)))], rng)
                    children.append(self.encoding.mutate(parent, rng))
                evaluate(children, generation)
                bar.update(task, advance=1, info=f"{sum(int(reached_queries[c] >= 0) for c in wanted)}/{len(wanted)} reached")
        for c in wanted:  # a niche nothing eligible ever reached: a fresh random genome (it will not count as reached)
            if elites[c] is None:
                elites[c] = self.encoding.random(1, shape, rng)[0]
        images = lo + (hi - lo) * self.encoding.render([elites[c] for c in wanted], shape).to(lo.device)
        q = torch.where(reached_queries[targets] >= 0, reached_queries[targets], torch.full((len(targets),), queries))
        steps = torch.where(reached_generation[targets] >= 0, reached_generation[targets], torch.full((len(targets),), generation))
        extra: dict[str, Any] = {"generations_run": generation, "total_queries": queries}
        if isinstance(self.encoding, CPPNEncoding):
            extra["genomes"] = [elites[c].to_json() for c in wanted]
        return Found(images, q, steps, extra)


def evolve_direct(generations: int = 200, batch: int = 100, *, rate: float = 0.1, eta: float = 15.0,
                  crossover: float = 0.5, min_distance: float = 0.0,
                  unlike: tuple[torch.Tensor, torch.Tensor] | None = None) -> MapElites:  # fmt: skip
    """MAP-Elites over pixels (polynomial mutation, uniform crossover)."""
    return MapElites(DirectEncoding(rate, eta), generations=generations, batch=batch, crossover=crossover,
                     min_distance=min_distance, unlike=unlike)  # fmt: skip


def evolve_cppn(generations: int = 200, batch: int = 100, *, min_distance: float = 0.0,
                unlike: tuple[torch.Tensor, torch.Tensor] | None = None, **encoding: Any) -> MapElites:  # fmt: skip
    """MAP-Elites over CPPNs (structural and weight mutations)."""
    return MapElites(CPPNEncoding(**encoding), generations=generations, batch=batch, crossover=0.0,
                     min_distance=min_distance, unlike=unlike)  # fmt: skip
