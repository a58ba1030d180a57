"""The base of the black-box attacks: they see the model only through a counted, budgeted ``Oracle``.

``QueryAttack`` subclasses implement ``search(oracle, x, y, eps=…, target=…, generator=…)``.
The attack base builds the oracle (per-sample counts, ``max_queries`` enforced) and calls it;
``run`` (a direct call without the base) builds an unbudgeted one. Minimisation query attacks
first ask the oracle about the clean inputs (one query each) and search only those not already
adversarial: those are their own answer at distance 0, never iterated on (no NaN, no endless loop).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.oracle import Oracle
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model


class QueryAttack(Attack):
    """A decision- or score-based attack; ``max_queries`` bounds the model calls per sample."""

    needs_gradient: ClassVar[bool] = False

    def __init__(self, norm: str = "l2", max_queries: int | None = None):
        super().__init__(norm)
        self.max_queries = check_positive_int(max_queries, f"{self.name}: max_queries")

    def config(self) -> dict[str, Any]:
        return {**super().config(), "max_queries": self.max_queries}

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
        return self._start(model, Oracle(model, len(x), self.max_queries), x, y, eps=eps, target=target, generator=generator)

    def _start(self, model: Model, oracle: Oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        with torch.no_grad():
            if not self.minimization:
                return self.search(oracle, x, y, eps=eps, target=target, generator=generator)
            done = oracle.adversarial(x, y, target)
            out = x.clone()
            todo = (~done).nonzero().squeeze(1)
            if len(todo):
                sub = oracle.subset(todo.cpu())
                t = None if target is None else target[todo]
                out[todo] = self.search(sub, x[todo], y[todo], eps=None, target=t, generator=generator)
            return out

    def search(
        self,
        oracle: Oracle,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: torch.Tensor | None,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Candidate adversarials, found by querying ``oracle`` only (``eps`` None for minimisation attacks)."""
        raise NotImplementedError


def rand(shape: tuple[int, ...] | torch.Size, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) numbers drawn on the CPU from ``generator`` (reproducible on any device), moved to ``like``."""
    return torch.rand(tuple(shape), generator=generator).to(like.device, like.dtype)


def randn(shape: tuple[int, ...] | torch.Size, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=generator).to(like.device, like.dtype)


def randint(high: int, shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=generator).to(device)


def rows(mask: torch.Tensor) -> torch.Tensor:
    """Indices where ``mask`` is True (a 1-D long tensor)."""
    return mask.nonzero().squeeze(1)


def bcast(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) → (N, 1, 1, …) against ``like``."""
    return v.reshape(-1, *([1] * (like.ndim - 1)))
