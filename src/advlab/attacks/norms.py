"""Distances as small objects: measure, project onto the ε-ball, steepest step, random start.

Every method works per sample on a batch (N, *shape); ``eps`` is a float or a
per-sample tensor of shape (N,), so minimisation attacks can shrink each
sample's ball separately.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch


def per_sample(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a float or an (N,) tensor to (N, 1, 1, …) against ``like``."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if t.ndim == 0:
        t = t.expand(like.shape[0])
    return t.reshape(-1, *([1] * (like.ndim - 1)))


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


class Norm(ABC):
    name: ClassVar[str]
    p: ClassVar[float]

    def distance(self, delta: torch.Tensor) -> torch.Tensor:
        """‖delta_i‖_p for each sample, shape (N,)."""
        return torch.linalg.vector_norm(_flat(delta), ord=self.p, dim=1)

    @abstractmethod
    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        """The closest point to ``delta`` in the ball of radius ``eps`` (Euclidean projection)."""

    @abstractmethod
    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        """A direction of unit norm maximising ⟨grad, direction⟩ (the norm's steepest ascent)."""

    @abstractmethod
    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A point drawn uniformly from the ball of radius ``eps``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LInf(Norm):
    name = "linf"
    p = math.inf

    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        e = per_sample(eps, delta)
        return torch.maximum(torch.minimum(delta, e), -e)

    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()

    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        u = torch.rand(like.shape, generator=generator, dtype=like.dtype).to(like.device)
        return (2 * u - 1) * per_sample(eps, like)


class L2(Norm):
    name = "l2"
    p = 2.0

    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        n = per_sample(self.distance(delta), delta)
        factor = torch.clamp(per_sample(eps, delta) / n.clamp_min(1e-12), max=1.0)
        return delta * factor

    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        return grad / per_sample(self.distance(grad), grad).clamp_min(1e-12)

    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        g = torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)
        d = _flat(g).shape[1]
        r = torch.rand(like.shape[0], generator=generator, dtype=like.dtype).to(like.device) ** (1.0 / d)
        return self.steepest(g) * per_sample(r, like) * per_sample(eps, like)


class L1(Norm):
    name = "l1"
    p = 1.0

    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        # Duchi et al. (2008): soft-threshold |delta| at the θ that puts it on the ball.
        v = _flat(delta)
        e = per_sample(eps, v).reshape(-1)
        outside = v.abs().sum(dim=1) > e
        # No "all inside: return delta" shortcut: it reads a value back to the host, a stall per PGD step on a GPU.
        u, _ = v.abs().sort(dim=1, descending=True)
        cssv = u.cumsum(dim=1) - e[:, None]
        j = torch.arange(1, v.shape[1] + 1, device=v.device, dtype=v.dtype)
        rho = (u * j > cssv).to(v.dtype).mul(j).argmax(dim=1)
        theta = cssv.gather(1, rho[:, None]) / (rho[:, None] + 1).to(v.dtype)
        projected = v.sign() * (v.abs() - theta.clamp_min(0)).clamp_min(0)
        return torch.where(outside[:, None], projected, v).reshape(delta.shape)

    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        # The L1-normalised gradient (Foolbox's choice). The exact maximiser of ⟨g, d⟩ on the L1
        # sphere is one-hot (``sparse_steepest(grad, sparsity=1.0)``); too slow a step for PGD.
        return grad / per_sample(self.distance(grad), grad).clamp_min(1e-12)

    def sparse_steepest(
        self, grad: torch.Tensor, sparsity: float = 0.99, movable: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Unit-L1 step on the largest ``1 − sparsity`` fraction of |grad| (at least one coordinate).

        The sign of the gradient on the top coordinates, spread evenly: a steepest step
        between one-hot (sparsity 1, the exact L1 maximiser) and dense. ``movable``
        (bool, like ``grad``) excludes coordinates that cannot move that way, e.g. pixels
        at a bound (Tramèr & Boneh, 2019, "SLIDE").
        """
        if not 0.0 <= sparsity <= 1.0:
            raise ValueError(f"sparse_steepest: sparsity must be in [0, 1], got {sparsity}")
        v = _flat(grad if movable is None else grad * movable.to(grad.dtype))
        a = v.abs()
        k = max(1, min(v.shape[1], math.ceil((1.0 - sparsity) * v.shape[1])))
        threshold = a.topk(k, dim=1).values[:, -1:]
        chosen = (a >= threshold) & (a > 0)
        direction = v.sign() * chosen.to(v.dtype)
        direction = direction / chosen.sum(dim=1, keepdim=True).clamp_min(1).to(v.dtype)
        return direction.reshape(grad.shape)

    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        # Uniform in the L1 ball: d+1 exponentials normalised to sum 1, first d kept, random signs.
        n, d = like.shape[0], like[0].numel()
        e = torch.empty(n, d + 1, dtype=like.dtype).exponential_(generator=generator)
        pts = (e / e.sum(dim=1, keepdim=True))[:, :d]
        signs = torch.randint(0, 2, (n, d), generator=generator).to(like.dtype) * 2 - 1
        return (pts * signs).reshape(like.shape).to(like.device) * per_sample(eps, like)


class L0(Norm):
    name = "l0"
    p = 0.0

    def distance(self, delta: torch.Tensor) -> torch.Tensor:
        return (_flat(delta).abs() > 1e-12).sum(dim=1).to(delta.dtype)

    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        v = _flat(delta)
        k = per_sample(eps, v).reshape(-1).floor().long().clamp(0, v.shape[1])
        ranks = v.abs().argsort(dim=1, descending=True).argsort(dim=1)
        return torch.where(ranks < k[:, None], v, torch.zeros_like(v)).reshape(delta.shape)

    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        # One coordinate: the largest gradient entry.
        v = _flat(grad)
        out = torch.zeros_like(v)
        idx = v.abs().argmax(dim=1, keepdim=True)
        out.scatter_(1, idx, v.gather(1, idx).sign())
        return out.reshape(grad.shape)

    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        u = torch.rand(like.shape, generator=generator, dtype=like.dtype).to(like.device) * 2 - 1
        return self.project(u, eps)


NORMS: dict[str, Norm] = {n.name: n for n in (LInf(), L2(), L1(), L0())}
DISTANCE_NAMES = ("l0", "l1", "l2", "linf")


def get_norm(name: str) -> Norm:
    key = name.lower().replace("-", "").replace("_", "")
    key = {"inf": "linf", "linfinity": "linf", "2": "l2", "1": "l1", "0": "l0"}.get(key, key)
    if key not in NORMS:
        raise ValueError(f"unknown norm {name!r}; expected one of {sorted(NORMS)}")
    return NORMS[key]


def all_distances(delta: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: NORMS[name].distance(delta) for name in DISTANCE_NAMES}
