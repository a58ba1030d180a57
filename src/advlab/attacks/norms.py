"""Norms own their geometry: distance, dual norm, projection, steepest step, default step, random start,
sampling on the sphere and in the ball, and the feasible set (ε-ball ∩ bounds).

Every method works per sample on a batch (N, *shape); ``eps`` is a float or a
per-sample tensor of shape (N,), so minimisation attacks can shrink each
sample's ball separately. Code elsewhere asks the norm object; it never
branches on a norm's name or class.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch

from advlab.bounds import Bounds


def per_sample(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a float or an (N,) tensor to (N, 1, 1, …) against ``like``."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if t.ndim == 0:
        t = t.expand(like.shape[0])
    return t.reshape(-1, *([1] * (like.ndim - 1)))


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


#: PGD's default number of steps; ``Norm.default_rel_stepsize`` is tuned for it.
DEFAULT_STEPS = 40


class Feasible(ABC):
    """The feasible set of one batch (ε-ball around ``x`` ∩ bounds); ``project`` maps iterates into it."""

    @abstractmethod
    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        """The point of the set nearest to ``x_adv`` (or a point of it close to that); may reuse
        ``x_adv``'s memory."""


class Box(Feasible):
    """L∞: the ε-ball and the bounds are both boxes, so their intersection is one box and a
    single clamp is the exact Euclidean projection onto it (no ``x₀ + clip(x − x₀)`` round trip)."""

    def __init__(self, x: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds):
        e = per_sample(eps, x)
        self.lower = bounds.clip(x - e)
        self.upper = bounds.clip(x + e)

    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        return x_adv.clamp_(self.lower, self.upper)


class BallInBounds(Feasible):
    """Project the perturbation onto the ε-ball, then clip into the bounds (the usual
    approximation of the projection onto their intersection; the result lies in both)."""

    def __init__(self, norm: Norm, x: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds):
        self.norm, self.bounds, self.x, self.eps = norm, bounds, x, eps

    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        return self.bounds.clip(self.x + self.norm.project(x_adv - self.x, self.eps))


class Norm(ABC):
    name: ClassVar[str]
    p: ClassVar[float]
    #: the order of the dual norm (‖g‖_* = max over the unit ball of ⟨g, d⟩).
    dual_p: ClassVar[float]
    #: PGD's step relative to ε for ``DEFAULT_STEPS`` steps (see ``default_rel_stepsize``).
    rel_stepsize: ClassVar[float] = 0.1
    #: a perturbation size visible but not absurd on [0, 1] images (MNIST scale), for pictures.
    default_eps: ClassVar[float]
    #: sizes count coordinates (L0): radii are whole numbers.
    discrete: ClassVar[bool] = False
    #: its PGD step is sparse (``direction`` takes a ``sparsity``; L1).
    sparse_steps: ClassVar[bool] = False

    def distance(self, delta: torch.Tensor) -> torch.Tensor:
        """‖delta_i‖_p for each sample, shape (N,)."""
        return torch.linalg.vector_norm(_flat(delta), ord=self.p, dim=1)

    def dual(self, g: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """The dual norm of ``g`` over its dimensions from ``dim`` on (the linear distance to a boundary
        with gradient g is |margin| / dual(g))."""
        return torch.linalg.vector_norm(g.flatten(dim), ord=self.dual_p, dim=dim)

    @abstractmethod
    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        """The closest point to ``delta`` in the ball of radius ``eps`` (Euclidean projection)."""

    @abstractmethod
    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        """A direction of unit norm maximising ⟨grad, direction⟩ (the norm's steepest ascent)."""

    def direction(self, grad: torch.Tensor, x: torch.Tensor, bounds: Bounds, sparsity: float = 0.99) -> torch.Tensor:
        """The ascent direction a PGD step takes at ``x`` (unit norm); ``sparsity`` is for L1 only."""
        return self.steepest(grad)

    def default_rel_stepsize(self, steps: int) -> float:
        """PGD's step relative to ε for ``steps`` steps: ``rel_stepsize`` for 40, proportionally larger for
        fewer, so the path can still cross the ball (10 steps of 0.033·ε would reach a third of the way)."""
        return self.rel_stepsize * max(1.0, DEFAULT_STEPS / steps)

    @abstractmethod
    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A point drawn uniformly from the ball of radius ``eps``."""

    @abstractmethod
    def sphere(self, like: torch.Tensor, radius: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Per sample, a point of the sphere of radius ``radius`` (norm exactly ``radius``), random direction."""

    def random_start(
        self, x: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds, generator: torch.Generator | None,
        *, clip: bool = True,
    ) -> torch.Tensor:
        """``x`` + a uniform point of the ε-ball, clipped into the bounds unless ``clip=False`` (Wong et al.'s
        MNIST start: the gradient is taken at the unclipped point, only the final iterate is clipped)."""
        start = x + self.random(x, eps, generator)
        return bounds.clip(start) if clip else start

    def feasible(self, x: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds) -> Feasible:
        """Where iterates around ``x`` may go: the ε-ball inside the bounds."""
        return BallInBounds(self, x, eps, bounds)

    def clip_to_feasible(self, x: torch.Tensor, x_adv: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds) -> torch.Tensor:
        """``x_adv`` moved into the ε-ball around ``x`` and the bounds (a new tensor)."""
        return self.feasible(x, eps, bounds).project(x_adv.clone())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _random_signs(shape: tuple[int, ...], generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
    return torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0).to(dtype)


class LInf(Norm):
    name = "linf"
    p = math.inf
    dual_p = 1.0
    # Madry et al.'s (and Foolbox's) 0.01 for ε = 0.3 on MNIST.
    rel_stepsize = 0.01 / 0.3
    default_eps = 0.1

    def project(self, delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        e = per_sample(eps, delta)
        return torch.maximum(torch.minimum(delta, e), -e)

    def steepest(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()

    def random(self, like: torch.Tensor, eps: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        u = torch.rand(like.shape, generator=generator, dtype=like.dtype).to(like.device)
        return (2 * u - 1) * per_sample(eps, like)

    def sphere(self, like: torch.Tensor, radius: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        # A random corner of the cube: every coordinate at ±radius.
        return _random_signs(tuple(like.shape), generator, like.dtype).to(like.device) * per_sample(radius, like)

    def feasible(self, x: torch.Tensor, eps: float | torch.Tensor, bounds: Bounds) -> Feasible:
        return Box(x, eps, bounds)


class L2(Norm):
    name = "l2"
    p = 2.0
    dual_p = 2.0
    # 0.1, larger than Foolbox's 0.025: 40 steps of 0.025·ε barely leave a random start near the sphere
    # (measured on digits: 0.025 made L2 PGD weaker than FGSM; 0.1 was best of 0.025, 0.0625, 0.1, 0.2).
    rel_stepsize = 0.1
    default_eps = 1.5

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

    def sphere(self, like: torch.Tensor, radius: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        g = torch.randn(like.shape, generator=generator).to(like.device, like.dtype)
        return self.steepest(g) * per_sample(radius, like)


class L1(Norm):
    name = "l1"
    p = 1.0
    dual_p = math.inf
    rel_stepsize = 0.1
    default_eps = 10.0
    sparse_steps = True

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

    def direction(self, grad: torch.Tensor, x: torch.Tensor, bounds: Bounds, sparsity: float = 0.99) -> torch.Tensor:
        """A sparse step over the coordinates free to move that way (not pinned at a bound)."""
        lo, hi = bounds.like(x)  # cached on the device: no copy per step
        movable = ((grad > 0) & (x < hi)) | ((grad < 0) & (x > lo))
        return self.sparse_steepest(grad, sparsity, movable)

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

    def sphere(self, like: torch.Tensor, radius: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        # Uniform on the L1 sphere: exponential magnitudes normalised per sample, random signs.
        e = -torch.log(torch.rand(like.shape, generator=generator).clamp_min(1e-12))
        signs = _random_signs(tuple(like.shape), generator, e.dtype)
        pts = signs * e / _flat(e).sum(dim=1).reshape(-1, *([1] * (e.ndim - 1)))
        return pts.to(like.device, like.dtype) * per_sample(radius, like)


class L0(Norm):
    name = "l0"
    p = 0.0
    discrete = True
    dual_p = math.inf  # not a norm; the L∞ of the gradient is the best one-coordinate gain
    default_eps = 10.0

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

    def sphere(self, like: torch.Tensor, radius: float | torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        # ``radius`` coordinates (the count), each moved by ±1.
        u = _random_signs(tuple(like.shape), generator, like.dtype).to(like.device)
        v = _flat(u)
        k = per_sample(radius, v).reshape(-1).floor().long().clamp(0, v.shape[1])
        order = torch.rand(v.shape, generator=generator).argsort(dim=1).to(like.device)
        return torch.where(order < k[:, None], v, torch.zeros_like(v)).reshape(like.shape)


NORMS: dict[str, Norm] = {n.name: n for n in (LInf(), L2(), L1(), L0())}
DISTANCE_NAMES = ("l0", "l1", "l2", "linf")


def get_norm(name: str | Norm) -> Norm:
    if isinstance(name, Norm):
        return name
    if not isinstance(name, str):
        raise TypeError(f"norm must be a name ({sorted(NORMS)}) or a Norm, got {type(name).__name__}")
    key = name.lower().replace("-", "").replace("_", "")
    key = {"inf": "linf", "linfinity": "linf", "2": "l2", "1": "l1", "0": "l0"}.get(key, key)
    if key not in NORMS:
        raise ValueError(f"unknown norm {name!r}; expected one of {sorted(NORMS)}")
    return NORMS[key]


def all_distances(delta: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: NORMS[name].distance(delta) for name in DISTANCE_NAMES}
