"""How an evolved genome becomes an image: the encodings MAP-Elites searches over.

An ``Encoding`` makes random genomes, mutates them, optionally crosses two of
them, and renders a list of genomes into a batch of inputs with values in
[0, 1] (the search maps them into the model's bounds). Randomness comes from a
``numpy.random.Generator`` handed in by the search, itself seeded from the
caller's ``torch.Generator``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from advlab.fooling.base import check_float


class Encoding(ABC):
    name: ClassVar[str] = "abstract"
    #: whether ``crossover`` does anything (uniform crossover of pixels); a CPPN search only mutates
    crosses: ClassVar[bool] = False

    @abstractmethod
    def random(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> list[Any]:
        """n random genomes for inputs of ``shape``."""

    @abstractmethod
    def mutate(self, genome: Any, rng: np.random.Generator) -> Any:
        """A mutated copy (the parent is left unchanged)."""

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any:
        return a

    @abstractmethod
    def render(self, genomes: Sequence[Any], shape: tuple[int, ...]) -> torch.Tensor:
        """len(genomes) × shape float32 tensor with values in [0, 1]."""

    def params(self) -> dict[str, Any]:
        return {}


class DirectEncoding(Encoding):
    """One gene per input value (Nguyen et al.'s direct encoding).

    Genomes start as uniform noise; each gene mutates with probability ``rate`` by
    Deb's bounded polynomial mutation of strength ``eta`` (Nguyen et al.: rate 0.1,
    strength 15); crossover is uniform (each gene from either parent, p = 1/2).
    """

    name: ClassVar[str] = "direct"
    crosses: ClassVar[bool] = True

    def __init__(self, rate: float = 0.1, eta: float = 15.0):
        self.rate = check_float(rate, "direct encoding: rate", strict=True)
        if self.rate > 1:
            raise ValueError(f"direct encoding: rate must be in (0, 1], got {rate!r}")
        self.eta = check_float(eta, "direct encoding: eta", strict=True)

    def params(self) -> dict[str, Any]:
        return {"rate": self.rate, "eta": self.eta}

    def random(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> list[Any]:
        return list(rng.random((n, *shape), dtype=np.float32))

    def mutate(self, genome: Any, rng: np.random.Generator) -> Any:
        mask = rng.random(genome.shape) < self.rate
        return np.where(mask, polynomial_mutation(genome, self.eta, rng), genome).astype(np.float32)

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any:
        return np.where(rng.random(a.shape) < 0.5, a, b)

    def render(self, genomes: Sequence[Any], shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(np.stack(list(genomes)).astype(np.float32)).reshape(len(genomes), *shape)


def polynomial_mutation(x: np.ndarray, eta: float, rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Deb & Agrawal's bounded polynomial mutation of every element of ``x`` (values stay in [low, high]).

    With u ~ U(0, 1), δ₁ = (x − low)/(high − low), δ₂ = (high − x)/(high − low):
    δq = (2u + (1 − 2u)(1 − δ₁)^(η+1))^(1/(η+1)) − 1 for u < 1/2, else
    δq = 1 − (2(1 − u) + 2(u − 1/2)(1 − δ₂)^(η+1))^(1/(η+1)); x' = x + δq·(high − low).
    """
    span = high - low
    d1, d2 = (x - low) / span, (high - x) / span
    u = rng.random(x.shape)
    p = 1.0 / (eta + 1.0)
    lower = (2 * u + (1 - 2 * u) * (1 - d1) ** (eta + 1)) ** p - 1
    upper = 1 - (2 * (1 - u) + 2 * (u - 0.5) * (1 - d2) ** (eta + 1)) ** p
    dq = np.where(u < 0.5, lower, upper)
    return np.clip(x + dq * span, low, high).astype(x.dtype)
