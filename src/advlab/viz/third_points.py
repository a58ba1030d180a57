"""Third points for a slice through an image a and its adversarial b (Świrszczyński et al.).

``third_point(strategy, model, a, b)`` returns one input c in the model's box H:

- ``"grey"``: the centre of H (the uniform grey image);
- ``"random-image"``: a point drawn uniformly from H;
- ``"random-perturbation"``: a + δ with ‖δ‖ = ``size`` in ``norm`` (linf, l2, l1), clipped to H
  (clipping can only shrink δ: pixels already at a bound lose the outward part);
- ``"attack:NAME"``: the adversarial of a found by another registered attack (with ``eps`` for a
  fixed-size attack; a minimisation attack gives its minimal adversarial);
- ``"seed:K"``: the adversarial of a by the same ``attack`` started from random seed K;
- ``"model:RUN"``: the adversarial of a for another model (a run folder or ``.safetensors``);
- ``"image:INDEX"``: test input INDEX of ``data`` (a Dataset or a tensor of inputs);
- an explicit tensor / array shaped like one input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advlab.attacks import Attack, make_attack
from advlab.attacks.norms import get_norm
from advlab.models.model import Model

STRATEGIES = ("grey", "random-image", "random-perturbation", "attack:NAME", "seed:K", "model:RUN", "image:INDEX")
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
        return make_attack(attack, **options)
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


def _split(strategy: str) -> tuple[str, str]:
    head, _, arg = strategy.partition(":")
    return head.strip().lower(), arg.strip()


def third_point(
    strategy: str | torch.Tensor | np.ndarray,
    model: Model,
    a: Any,
    b: Any = None,
    *,
    attack: Attack | str | None = None,
    eps: float | None = None,
    data: Any = None,
    generator: torch.Generator | None = None,
    seed: int | None = None,
    norm: str = "l2",
    size: float | None = None,
    label: int | None = None,
    attack_options: dict[str, Any] | None = None,
) -> torch.Tensor:
    """The third point c of a slice through ``a`` (an image) and ``b`` (its adversarial); see the module doc.

    ``generator`` (or ``seed``, default 0) makes random strategies deterministic. ``attack``
    and ``eps`` describe how b was made (used by ``seed:K`` and ``model:RUN``); ``label`` is
    a's class for the attacks (default: the model's prediction).
    """
    if not isinstance(model, Model):
        raise TypeError(f"third_point: expected an advlab Model, got {type(model).__name__}")
    a_t = as_input(a, model, "third_point: a")
    if b is not None:
        as_input(b, model, "third_point: b")
    if isinstance(strategy, (torch.Tensor, np.ndarray)):
        return as_input(strategy, model, "third_point: the explicit third point")
    if not isinstance(strategy, str):
        raise TypeError(f"third_point: strategy must be a name ({', '.join(STRATEGIES)}) or a tensor, got {type(strategy).__name__}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0 if seed is None else int(seed))
    kind, arg = _split(strategy)
    shape = tuple(model.input_shape)
    if kind == "grey" and not arg:
        return model.bounds.center(shape).float().clone()
    if kind == "random-image" and not arg:
        return model.bounds.uniform(1, shape, gen)[0].float()
    if kind == "random-perturbation" and not arg:
        return random_perturbation(a_t, model, norm, size, gen)  # type: ignore[arg-type]
    if kind == "attack" and arg:
        other = resolve_attack(arg, "attack:NAME", **(attack_options or {}))
        # eps describes b's attack; a minimisation attack gives its own minimal adversarial instead.
        return adversarial_of(model, a_t, other, eps=None if other.minimization else eps, label=label,
                              seed=0 if seed is None else int(seed))
    if kind == "seed" and arg:
        atk = resolve_attack(attack, "seed:K")
        c = adversarial_of(model, a_t, atk, eps=eps, label=label, seed=_int(arg, strategy))
        if b is not None and torch.allclose(c, as_input(b, model, "b"), atol=1e-6):
            raise ValueError(f"third_point: {strategy!r} gave b again ({atk.name} does not depend on its seed here); "
                             "pick another strategy, e.g. attack:NAME or random-image")
        return c
    if kind == "model" and arg:
        return _other_model(arg, model, a_t, attack, eps, label, seed)
    if kind == "image" and arg:
        return _data_point(data, _int(arg, strategy), model)
    raise ValueError(f"third_point: unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)} or a tensor")


def _int(text: str, strategy: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"third_point: {strategy!r} needs an integer after the colon") from None


def _other_model(path: str, model: Model, a: torch.Tensor, attack: Any, eps: float | None, label: int | None,
                 seed: int | None) -> torch.Tensor:
    from advlab.runs import open_run

    other = open_run(path).load_model()
    if tuple(other.input_shape) != tuple(model.input_shape):
        raise ValueError(f"third_point: model:{path} takes inputs shaped {other.input_shape}, not {model.input_shape}")
    return adversarial_of(other, a, resolve_attack(attack, "model:RUN"), eps=eps, label=label, seed=0 if seed is None else int(seed))


def _data_point(data: Any, index: int, model: Model) -> torch.Tensor:
    if data is None:
        raise ValueError("third_point: 'image:INDEX' needs data= (a Dataset, whose test inputs are used, or a tensor of inputs)")
    x = getattr(data, "x_test", data)
    if not isinstance(x, torch.Tensor) or tuple(x.shape[1:]) != tuple(model.input_shape):
        raise ValueError(f"third_point: data must be a Dataset or a tensor shaped (N, {', '.join(map(str, model.input_shape))})")
    if not -len(x) <= index < len(x):
        raise ValueError(f"third_point: image index {index} is out of range for {len(x)} inputs")
    return as_input(x[index], model, f"third_point: image {index}")
