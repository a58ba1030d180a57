"""The two directions of a church window, optionally within the face of H containing the image.

Within the face, random directions are *room-weighted*: a Gaussian vector times each pixel's
room (its distance to the nearer bound, ``room_weights``), so a pixel moves in proportion to how
far it can move both ways; the anti-aliased stroke edges of an MNIST digit, a few 1/255 from a
bound, barely move, and the window stays inside H far longer than with an unweighted direction.

The face of the box H containing a is the set of points of H that keep every coordinate of a
sitting at a bound (within 1e-6); a direction lies in it when its components on those
coordinates are zero. The adversarial direction in the face comes from the attack run on the
model seen through the face (``_FaceNet``: the pixels at a bound held at a's values), so the
adversarial found is itself in the face, and in H (for a model without gradients the attack
runs unrestricted and its perturbation is projected onto the face instead).
"""

from __future__ import annotations

import numpy as np
import torch

from advlab.attacks import Attack
from advlab.models.model import Model
from advlab.viz.third_points import adversarial_of


def box_of(model: Model) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's bounds as two flat float64 vectors."""
    lo = model.bounds.lower.expand(model.input_shape).reshape(-1).double()
    hi = model.bounds.upper.expand(model.input_shape).reshape(-1).double()
    return lo, hi


def unit(v: torch.Tensor) -> torch.Tensor:
    n = float(v.norm())
    if n == 0.0 or not np.isfinite(n):
        raise ValueError("church windows: a direction is zero (the attack or gradient left the image unchanged)")
    return v / n


def free_coordinates(a: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, face: bool) -> torch.Tensor:
    """1.0 on the coordinates a direction may move (with ``face``: those not within 1e-6 of a bound), else 0.0."""
    flat = a.reshape(-1).double()
    if not face:
        return torch.ones_like(flat)
    return ((flat - lo > 1e-6) & (hi - flat > 1e-6)).double()


def room_weights(a: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, face: bool) -> torch.Tensor:
    """Per coordinate, the room a direction may use both ways: min(a − lo, hi − a) within 1e-6 of a bound → 0
    (with ``face``); all ones without ``face``."""
    flat = a.reshape(-1).double()
    if not face:
        return torch.ones_like(flat)
    room = torch.minimum(flat - lo, hi - flat)
    return torch.where(room > 1e-6, room, torch.zeros_like(room))


def random_direction(free: torch.Tensor, gen: torch.Generator, e1: torch.Tensor | None = None) -> torch.Tensor:
    """A random unit vector on the free coordinates, each scaled by its weight in ``free`` (a 0/1 mask or
    ``room_weights``); orthogonal to ``e1`` when given (e1 is free too)."""
    g = torch.randn(free.shape, generator=gen, dtype=torch.float64) * free
    if e1 is not None:  # twice: one Gram-Schmidt pass can leave a rounding error along e1
        g = g - (g @ e1) * e1
        g = g - (g @ e1) * e1
    return unit(g)


def _gradient_direction(model: Model, a: torch.Tensor, label: int, target: int | None) -> torch.Tensor:
    """Steepest L2 ascent of the cross-entropy of ``label`` (or descent towards ``target``)."""
    x = a[None].clone().to(model.device).requires_grad_(True)
    was = model.training
    model.eval()
    try:
        logits = model(x)
        y = torch.tensor([label if target is None else target], device=model.device)
        loss = torch.nn.functional.cross_entropy(logits, y)
        (g,) = torch.autograd.grad(loss if target is None else -loss, x)
    finally:
        model.train(was)
    return g[0].detach().cpu().double().reshape(-1)


class _FaceNet(torch.nn.Module):
    """The model seen through the face of H containing ``a``: pixels at a bound are held at a's values."""

    def __init__(self, model: Model, a: torch.Tensor, free: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("a", a.reshape(model.input_shape).to(model.device, torch.float32))
        self.register_buffer("free", free.reshape(model.input_shape).to(model.device, torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a: torch.Tensor = self.get_buffer("a")
        free: torch.Tensor = self.get_buffer("free")
        return self.model(a + free * (x - a))


def in_face(model: Model, a: torch.Tensor, free: torch.Tensor) -> Model:
    """A model that only the free pixels can change, so an attack on it finds an adversarial within the face."""
    if bool((free == 1).all()) or not model.differentiable:  # nothing held, or no gradient to mask: project afterwards
        return model
    return Model(_FaceNet(model, a, free), bounds=model.bounds, classes=model.classes, input_shape=model.input_shape)


def adversarial_direction(model: Model, a: torch.Tensor, label: int, target: int | None, attack: Attack | None,
                          eps: float | None, seed: int, free: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Unit direction on the free coordinates, and the adversarial's position along it (NaN for a gradient)."""
    if attack is None:  # the masked gradient is the steepest ascent within the face
        return unit(_gradient_direction(model, a, label, target) * free), float("nan")
    try:
        adv = adversarial_of(in_face(model, a, free), a, attack, eps=eps, label=label, target=target, seed=seed)
    except ValueError:  # the attack left a unchanged (found nothing): the masked gradient, no ☆
        return unit(_gradient_direction(model, a, label, target) * free), float("nan")
    delta = (adv - a).double().reshape(-1) * free  # a + δ: the adversarial within the face
    if float(delta.norm()) == 0.0:
        raise ValueError("church windows: the attack moved no pixel strictly inside H; use face=False")
    return unit(delta), float(delta.norm())
