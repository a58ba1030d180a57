"""Input bounds: the box every input, attack and picture lives in.

Images use scalar bounds (0, 1); tabular data may have one (lower, upper)
pair per feature. Bounds are stored as tensors that broadcast against a batch
(N, *input_shape), so clipping and checking are one call whatever the kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass(frozen=True, eq=False)
class Bounds:
    """Lower and upper limits of the input space, broadcastable to one input."""

    lower: torch.Tensor
    upper: torch.Tensor
    # copies on other devices/dtypes, made once: an attack loop clipping on the GPU must not copy the
    # bounds from the host at every step.
    _copies: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.lower.shape != self.upper.shape:
            raise ValueError(
                f"bounds: lower and upper must have the same shape, got {tuple(self.lower.shape)} "
                f"and {tuple(self.upper.shape)}"
            )
        if not torch.isfinite(self.lower).all() or not torch.isfinite(self.upper).all():
            raise ValueError("bounds: lower and upper must be finite numbers")
        if (self.lower >= self.upper).any():
            raise ValueError(
                f"bounds: every lower bound must be below its upper bound, got lower={self.lower.tolist()} "
                f"upper={self.upper.tolist()}"
            )

    @classmethod
    def of(cls, value: Any) -> Bounds:
        """Build from ``Bounds``, ``(lo, hi)`` scalars or ``(los, his)`` per-feature lists."""
        if isinstance(value, Bounds):
            return value
        if isinstance(value, dict) and {"lower", "upper"} <= value.keys():
            value = (value["lower"], value["upper"])
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"bounds: expected (lower, upper), got {value!r}")
        lo = torch.as_tensor(value[0], dtype=torch.float32).clone()
        hi = torch.as_tensor(value[1], dtype=torch.float32).clone()
        return cls(lo, hi)

    @property
    def is_scalar(self) -> bool:
        return self.lower.ndim == 0

    def to(self, device: torch.device | str) -> Bounds:
        return Bounds(self.lower.to(device), self.upper.to(device))

    def like(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(lower, upper) on ``x``'s device and dtype; copied there once, then reused."""
        return self._on(x)

    def _on(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.lower.device == x.device and self.lower.dtype == x.dtype:
            return self.lower, self.upper
        key = (x.device, x.dtype)
        if key not in self._copies:
            self._copies[key] = (self.lower.to(x.device, x.dtype), self.upper.to(x.device, x.dtype))
        return self._copies[key]

    def clip(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi = self._on(x)
        return torch.maximum(torch.minimum(x, hi), lo)

    def contains(self, x: torch.Tensor, atol: float = 1e-6) -> torch.Tensor:
        """Per-sample bool: is every coordinate of ``x[i]`` inside the box (within ``atol``)?"""
        lo, hi = self._on(x)
        inside = (x >= lo - atol) & (x <= hi + atol)
        return inside.reshape(x.shape[0], -1).all(dim=1)

    def center(self, input_shape: Sequence[int]) -> torch.Tensor:
        lo = self.lower.expand(tuple(input_shape))
        hi = self.upper.expand(tuple(input_shape))
        return (lo + hi) / 2

    def width(self, input_shape: Sequence[int]) -> torch.Tensor:
        return (self.upper - self.lower).expand(tuple(input_shape)).clone()

    def uniform(self, n: int, input_shape: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points drawn uniformly from the box."""
        shape = (n, *input_shape)
        u = torch.rand(shape, generator=generator)
        return self.lower + u * (self.upper - self.lower)

    def to_json(self) -> list[Any]:
        return [self.lower.tolist(), self.upper.tolist()]

    def __repr__(self) -> str:
        if self.is_scalar:
            return f"Bounds({self.lower.item():g}, {self.upper.item():g})"
        return f"Bounds(lower={self.lower.tolist()}, upper={self.upper.tolist()})"
