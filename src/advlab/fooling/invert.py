"""Hidden-space inversion: images the network maps far out in its hidden space, where a class wins with certainty.

For a model made of ``features`` then a linear ``head``, the head's regions in
hidden space are convex cones that reach infinity (at least for some classes),
and the farther a point lies inside one, the more certain the head is. We pick
one far point per class, ``radius_factor`` × the data's radius from the
centre of the embedded training inputs, then search an input x = sigmoid(z)
(in the model's bounds) minimising ‖features(x) − target‖² by Adam on z. This
is the method of the bottleneck-fooling experiment, for any hidden size.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from advlab.fooling.base import FoolingStrategy, Found, box, check_float, check_int, log_probs
from advlab.models.parts import embed, feature_head, linear_head


def far_targets(head: torch.nn.Module, hidden: torch.Tensor, radius_factor: float, n_angles: int = 720) -> dict[int, torch.Tensor]:
    """One far hidden point per class whose region reaches infinity, ``radius_factor`` × the data's radius from
    the centre of ``hidden``.

    In 2-D: the middle of the arc of directions that class wins far away (where the bias
    no longer matters, so the arc comes from the weights alone). In more dimensions: the
    direction wₖ − mean(w), kept if the class wins there (tried at 1×, 2× and 4× the distance).
    """
    if not isinstance(head, torch.nn.Linear):
        raise TypeError(f"far_targets: expected the network's head as torch.nn.Linear(d, K), got {head!r}")
    weight, bias = head.weight.detach().cpu().double(), head.bias.detach().cpu().double()
    if hidden.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"far_targets: expected hidden points shaped (N, {weight.shape[1]}), got {tuple(hidden.shape)}")
    centre = hidden.double().mean(0)
    radius = float((hidden.double() - centre).norm(dim=1).max())
    out = {}
    for k, direction in _directions(weight, n_angles).items():
        for scale in (1.0, 2.0, 4.0) if weight.shape[1] > 2 else (1.0,):
            point = centre + scale * radius_factor * radius * direction
            if int((weight @ point + bias).argmax()) == k:  # far enough that the class really wins there
                out[k] = point.float()
                break
    return out


def _directions(weight: torch.Tensor, n_angles: int) -> dict[int, torch.Tensor]:
    if weight.shape[1] != 2:
        d = weight - weight.mean(0, keepdim=True)
        return {k: d[k] / d[k].norm() for k in range(len(weight)) if float(d[k].norm()) > 0}
    step = 2 * math.pi / n_angles
    angles = torch.arange(n_angles, dtype=torch.float64) * step
    winners = (torch.stack([angles.cos(), angles.sin()], 1) @ weight.T).argmax(1)
    out = {}
    for k in range(weight.shape[0]):
        run = _longest_circular_run(winners == k)
        if run is not None:
            angle = (run[0] + (run[1] - 1) / 2) * step
            out[k] = torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)
    return out


def _longest_circular_run(mask: torch.Tensor) -> tuple[int, int] | None:
    """(start, length) of the longest run of True in a circular mask."""
    m = mask.tolist()
    n = len(m)
    if not any(m):
        return None
    if all(m):
        return (0, n)
    start = m.index(False) + 1  # begin just after a False so no run wraps
    best, cur = (0, 0), None
    for i in range(start, start + n):
        if m[i % n]:
            cur = (cur[0], cur[1] + 1) if cur else (i, 1)
            best = max(best, cur, key=lambda r: r[1])
        else:
            cur = None
    return best


def invert_features(model: Any, targets: torch.Tensor, *, steps: int, lr: float, seed: int | torch.Generator,
                    rows: torch.Tensor | None = None, required: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Inputs x in the model's bounds minimising ‖features(x) − target‖² (Adam on z, x = box(sigmoid(z)), from faint
    noise), and the number of steps each took. With ``rows`` (class per target) and ``required``, a row stops
    once p(row's class | x) ≥ required."""
    features, _ = feature_head(model)
    gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    lo, hi = box(model)
    z = (0.1 * torch.randn(len(targets), *model.input_shape, generator=gen)).to(model.device)
    goal = targets.to(model.device)
    m, v = torch.zeros_like(z), torch.zeros_like(z)
    done_at = torch.full((len(targets),), -1, dtype=torch.long)
    shape = (-1, *[1] * (z.ndim - 1))
    for step in range(steps + 1):
        if rows is not None and required is not None:
            p = log_probs(model, lo + (hi - lo) * torch.sigmoid(z)).gather(1, rows[:, None].to(z.device))[:, 0].exp().cpu()
            done_at[(p >= required) & (done_at < 0)] = step
        if step == steps or bool((done_at >= 0).all()):
            break
        zz = z.detach().requires_grad_(True)
        loss = ((features(lo + (hi - lo) * torch.sigmoid(zz)) - goal) ** 2).sum()
        (g,) = torch.autograd.grad(loss, zz)
        active = (done_at < 0).to(z.device).view(shape)
        m = torch.where(active, 0.9 * m + 0.1 * g, m)
        v = torch.where(active, 0.999 * v + 0.001 * g * g, v)
        update = lr * (m / (1 - 0.9 ** (step + 1))) / ((v / (1 - 0.999 ** (step + 1))).sqrt() + 1e-8)
        z = torch.where(active, z - update, z)
    used = torch.where(done_at >= 0, done_at, torch.full_like(done_at, steps))
    return (lo + (hi - lo) * torch.sigmoid(z)).detach().cpu(), used


class HiddenInversion(FoolingStrategy):
    """Map far points of the hidden space (one per class) back to inputs; needs the training inputs as ``reference``.

    ``stop_early``: stop each image once it reaches the required confidence (False: always ``steps`` steps,
    pushing as far towards the far point as the input box allows).
    """

    name: ClassVar[str] = "invert"
    needs_gradient: ClassVar[bool] = True
    needs_reference: ClassVar[bool] = True

    def __init__(self, steps: int = 300, lr: float = 0.1, *, radius_factor: float = 3.0, stop_early: bool = True):
        self.steps = check_int(steps, "invert: steps")
        self.lr = check_float(lr, "invert: lr", strict=True)
        self.radius_factor = check_float(radius_factor, "invert: radius_factor", strict=True)
        if not isinstance(stop_early, bool):
            raise TypeError(f"invert: stop_early must be True or False, got {stop_early!r}")
        self.stop_early = stop_early

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "lr": self.lr, "radius_factor": self.radius_factor, "stop_early": self.stop_early}

    def search(self, model: Any, targets: torch.Tensor, *, required: float, generator: torch.Generator,
               reference: torch.Tensor | None, quiet: bool) -> Found:  # fmt: skip
        head = linear_head(model)
        if reference is None:
            raise ValueError("invert: needs reference inputs (the training images), got none")
        hidden = embed(model, reference)
        far = far_targets(head, hidden, self.radius_factor)
        fallback = far_targets_unchecked(head, hidden, self.radius_factor)
        goal = torch.stack([far.get(int(k), fallback[int(k)]) for k in targets])
        images, used = invert_features(model, goal, steps=self.steps, lr=self.lr, seed=generator, rows=targets,
                                       required=required if self.stop_early else None)  # fmt: skip
        extra = {"hidden_targets": goal.tolist(), "classes_without_far_region": [int(k) for k in targets if int(k) not in far]}
        return Found(images, used + 1, used, extra)


def far_targets_unchecked(head: torch.nn.Linear, hidden: torch.Tensor, radius_factor: float) -> dict[int, torch.Tensor]:
    """The far point along wₖ − mean(w) for every class, whether or not the class wins there."""
    weight = head.weight.detach().cpu().double()
    centre = hidden.double().mean(0)
    radius = float((hidden.double() - centre).norm(dim=1).max())
    d = weight - weight.mean(0, keepdim=True)
    return {k: (centre + radius_factor * radius * d[k] / d[k].norm().clamp_min(1e-12)).float() for k in range(len(weight))}
