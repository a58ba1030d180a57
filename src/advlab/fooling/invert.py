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
    """One far hidden point per class whose region reaches that far, ``radius_factor`` × the data's radius from
    the centre of ``hidden`` (only classes that win at their point are returned).

    In 2-D: the middle of the arc of directions that class wins far away (where the bias
    no longer matters, so the arc comes from the weights alone). In more dimensions: the
    direction from the centre through the training point the head is surest is that class
    (kept non-negative when every hidden value is, as after a ReLU), or else the ray from
    the origin through that point.
    """
    weight, bias = _head_weights(head, hidden)
    return {k: pts[0] for k, pts in _candidates(weight, bias, hidden, radius_factor, n_angles).items() if pts}


def far_targets_unchecked(head: torch.nn.Module, hidden: torch.Tensor, radius_factor: float) -> dict[int, torch.Tensor]:
    """A far point for every class: the winning one of ``far_targets`` when there is one, else the first candidate."""
    weight, bias = _head_weights(head, hidden)
    winning = _candidates(weight, bias, hidden, radius_factor, 720)
    every = _candidates(weight, bias, hidden, radius_factor, 720, check=False)
    return {k: (winning[k] or every[k])[0] for k in every if winning.get(k) or every[k]}


def _head_weights(head: torch.nn.Module, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(head, torch.nn.Linear):
        raise TypeError(f"far_targets: expected the network's head as torch.nn.Linear(d, K), got {head!r}")
    weight = head.weight.detach().cpu().double()
    bias = head.bias.detach().cpu().double() if head.bias is not None else torch.zeros(len(weight), dtype=torch.float64)
    if hidden.ndim != 2 or hidden.shape[1] != weight.shape[1] or len(hidden) == 0:
        raise ValueError(f"far_targets: expected hidden points shaped (N, {weight.shape[1]}), got {tuple(hidden.shape)}")
    return weight, bias


def _candidates(weight: torch.Tensor, bias: torch.Tensor, hidden: torch.Tensor, radius_factor: float, n_angles: int,
                check: bool = True) -> dict[int, list[torch.Tensor]]:  # fmt: skip
    h = hidden.double()
    centre = h.mean(0)
    radius = float((h - centre).norm(dim=1).max())
    far = radius_factor * radius
    out: dict[int, list[torch.Tensor]] = {k: [] for k in range(len(weight))}
    if weight.shape[1] == 2:
        arcs = _arc_directions(weight, n_angles)
        spread = weight - weight.mean(0, keepdim=True)
        # the arc's middle when the class wins some direction far away; a class that never wins far away (a bounded
        # region) gets no checked point, and for the unchecked fallback a point along wₖ − mean(w)
        points = {k: [centre + far * arcs[k]] if k in arcs else
                  ([] if check else [centre + far * spread[k] / spread[k].norm().clamp_min(1e-12)])
                  for k in range(len(weight))}  # fmt: skip
    else:
        logits = h @ weight.T + bias
        points = {}
        for k in range(len(weight)):
            others = torch.cat([logits[:, :k], logits[:, k + 1 :]], dim=1).max(dim=1).values
            best = h[int((logits[:, k] - others).argmax())]
            along = centre + far * (best - centre) / (best - centre).norm().clamp_min(1e-12)
            if bool((h >= 0).all()):
                along = along.clamp_min(0.0)
            points[k] = [along, best * (far / float(best.norm().clamp_min(1e-12)))]
    for k, pts in points.items():
        for point in pts:
            if not check or int((weight @ point + bias).argmax()) == k:  # far enough that the class really wins there
                out[k].append(point.float())
    return out


def _arc_directions(weight: torch.Tensor, n_angles: int) -> dict[int, torch.Tensor]:
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

