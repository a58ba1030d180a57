"""Third points for a slice through an image a and its adversarial b (Świrszczyński et al.).

``third_point(strategy, model, a, b)`` returns one input c in the model's box H. A
strategy is an object (strings are parsed at the CLI edge, ``advlab.cli.third_point_spec``):

- ``Grey()``: the centre of H (the uniform grey image);
- ``RandomImage()``: a point drawn uniformly from H;
- ``RandomPerturbation(size, norm)``: a + δ with ‖δ‖ = ``size`` in ``norm`` (linf, l2, l1), clipped
  to H (clipping can only shrink δ: pixels already at a bound lose the outward part);
- ``OtherAttack(attack, eps)``: the adversarial of a found by another attack (a minimisation
  attack gives its minimal adversarial);
- ``OtherSeed(seed)``: the adversarial of a by b's own ``attack`` started from another seed;
- ``OtherModel(model)``: the adversarial of a, by b's ``attack``, for another model;
- an explicit tensor / array shaped like one input (e.g. another test image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.attacks import ATTACKS, Attack
from advlab.attacks.norms import get_norm
from advlab.models.model import Model

_PERTURBATION_NORMS = ("linf", "l2", "l1")


def as_input(x: Any, model: Model, name: str = "input") -> torch.Tensor:
    """One input as a float32 CPU tensor shaped ``model.input_shape``, checked for shape, NaN and the bounds."""
    t = torch.as_tensor(x.detach().cpu() if isinstance(x, torch.Tensor) else np.asarray(x), dtype=torch.float32)
    shape = tuple(model.input_shape)
    if tuple(t.shape) not in {shape, (1, *shape), (math.prod(shape),)}:
        raise ValueError(f"{name} must be one input shaped {shape}, got shape {tuple(t.shape)}")
    t = t.reshape(shape)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if not bool(model.bounds.contains(t[None]).item()):
        raise ValueError(f"{name} lies outside the model's bounds {model.bounds!r} (min {t.min():.4g}, max {t.max():.4g})")
    return t


def resolve_attack(attack: Attack | str | None, what: str, **options: Any) -> Attack:
    """An ``Attack`` from an instance or a registered name; a clear error when there is none."""
    if attack is None:
        raise ValueError(f"{what} needs an attack (attack=Attack instance or a name such as 'pgd')")
    if isinstance(attack, Attack):
        return attack
    if isinstance(attack, str):
        return ATTACKS.create(attack, **options)
    raise TypeError(f"{what}: attack must be an advlab Attack or a registered name, got {type(attack).__name__}")


def adversarial_of(
    model: Model,
    a: Any,
    attack: Attack | str,
    *,
    eps: float | None = None,
    label: int | None = None,
    target: int | None = None,
    seed: int = 0,
    require_success: bool = False,
) -> torch.Tensor:
    """The adversarial of one input ``a`` (shaped like one input); raises when it equals ``a``.

    A fixed-ε attack that fails still returns the point it reached (not adversarial);
    ``require_success=True`` turns that into an error.
    """
    atk = resolve_attack(attack, "adversarial_of")
    x = as_input(a, model, "a")[None]
    if eps is None and not atk.minimization:
        raise ValueError(f"adversarial_of: {atk.name} is a fixed-size attack and needs eps= (e.g. eps=0.2)")
    result = atk(model, x, None if label is None else torch.tensor([int(label)]), eps=eps,
                 target=None if target is None else torch.tensor([int(target)]), seed=int(seed))
    adv = result.adversarials[0, 0].float()
    if float((adv - x[0]).abs().max()) == 0.0:
        raise ValueError(f"adversarial_of: {atk.name} (eps={eps}) found no adversarial and left the input unchanged")
    if require_success and not bool(result.success[0, 0]):
        raise ValueError(f"adversarial_of: {atk.name} (eps={eps}) did not fool the model on this input")
    return adv


def random_perturbation(a: torch.Tensor, model: Model, norm: str, size: float, generator: torch.Generator) -> torch.Tensor:
    """a + δ with ‖δ‖_norm = size exactly (a uniformly random direction), then clipped to the box."""
    if norm not in _PERTURBATION_NORMS:
        raise ValueError(f"random-perturbation: norm must be one of {_PERTURBATION_NORMS}, got {norm!r}")
    if size is None or isinstance(size, bool) or not math.isfinite(float(size)) or float(size) <= 0:
        raise ValueError(f"random-perturbation: size must be a positive number (the perturbation's {norm} norm), got {size!r}")
    delta = get_norm(norm).sphere(a[None], float(size), generator)[0]
    return model.bounds.clip(a + delta)


@dataclass(frozen=True)
class Grey:
    """The centre of H: the uniform grey image."""


@dataclass(frozen=True)
class RandomImage:
    """A point drawn uniformly from H."""


@dataclass(frozen=True)
class RandomPerturbation:
    """a + δ with ‖δ‖_norm = ``size`` in a uniformly random direction, clipped to H."""

    size: float
    norm: str = "l2"


@dataclass(frozen=True)
class OtherAttack:
    """The adversarial of a found by ``attack`` (``eps`` for a fixed-size attack)."""

    attack: Attack
    eps: float | None = None


@dataclass(frozen=True)
class OtherSeed:
    """The adversarial of a by b's own attack, started from random seed ``seed``."""

    seed: int


@dataclass(frozen=True)
class OtherModel:
    """The adversarial of a by b's attack, computed for another ``model`` (same input shape)."""

    model: Model


ThirdPoint = Grey | RandomImage | RandomPerturbation | OtherAttack | OtherSeed | OtherModel
#: Strategies that need the model b was made for (a training animation cannot use them).
MODEL_DEPENDENT = (OtherAttack, OtherSeed, OtherModel)


def third_point(
    strategy: ThirdPoint | torch.Tensor | np.ndarray,
    model: Model,
    a: Any,
    b: Any = None,
    *,
    attack: Attack | None = None,
    eps: float | None = None,
    generator: torch.Generator | None = None,
    label: int | None = None,
) -> torch.Tensor:
    """The third point c of a slice through ``a`` (an image) and ``b`` (its adversarial); see the module doc.

    ``generator`` makes random strategies deterministic (a fresh ``Generator`` seeded 0 when
    omitted). ``attack`` and ``eps`` describe how b was made (used by ``OtherSeed`` and
    ``OtherModel``); ``label`` is a's class for the attacks (default: the model's prediction).
    """
    if not isinstance(model, Model):
        raise TypeError(f"third_point: expected an advlab Model, got {type(model).__name__}")
    a_t = as_input(a, model, "third_point: a")
    if b is not None:
        as_input(b, model, "third_point: b")
    if isinstance(strategy, (torch.Tensor, np.ndarray)):
        return as_input(strategy, model, "third_point: the explicit third point")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    shape = tuple(model.input_shape)
    if isinstance(strategy, Grey):
        return model.bounds.center(shape).float().clone()
    if isinstance(strategy, RandomImage):
        return model.bounds.uniform(1, shape, gen)[0].float()
    if isinstance(strategy, RandomPerturbation):
        return random_perturbation(a_t, model, strategy.norm, strategy.size, gen)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    if isinstance(strategy, OtherAttack):
        other = resolve_attack(strategy.attack, "OtherAttack")
        # A minimisation attack gives its own minimal adversarial; eps is for a fixed-size one.
        return adversarial_of(model, a_t, other, eps=None if other.minimization else strategy.eps, label=label, seed=seed)
    if isinstance(strategy, OtherSeed):
        atk = resolve_attack(attack, "OtherSeed (the attack that made b)")
        c = adversarial_of(model, a_t, atk, eps=eps, label=label, seed=int(strategy.seed))
        if b is not None and torch.allclose(c, as_input(b, model, "b"), atol=1e-6):
            raise ValueError(f"third_point: seed {strategy.seed} gave b again ({atk.name} does not depend on its seed here); "
                             "pick another strategy, e.g. OtherAttack or RandomImage")
        return c
    if isinstance(strategy, OtherModel):
        other_model = strategy.model
        if tuple(other_model.input_shape) != tuple(model.input_shape):
            raise ValueError(f"third_point: the other model takes inputs shaped {other_model.input_shape}, not {model.input_shape}")
        return adversarial_of(other_model, a_t, resolve_attack(attack, "OtherModel (the attack that made b)"), eps=eps,
                              label=label, seed=seed)
    raise TypeError(f"third_point: strategy must be one of Grey, RandomImage, RandomPerturbation, OtherAttack, OtherSeed, "
                    f"OtherModel or a tensor, got {type(strategy).__name__}")
