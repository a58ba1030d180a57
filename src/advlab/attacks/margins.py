"""Shared pieces of the minimisation attacks (CW, FMN, DDN): logit margins and best-so-far tracking.

The *margin* is how far an input is from being adversarial, measured on the
logits: positive while the attack has not succeeded, negative once it has.
Untargeted: ``Z_y − max_{j≠y} Z_j``; targeted: ``max_{j≠t} Z_j − Z_t``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from advlab.models.model import Model


def input_logits(model: Model, x: torch.Tensor) -> torch.Tensor:
    """Logits with autograd, in the inputs' dtype: a float64 network (an exact scikit-learn
    conversion) is judged in float32, as the base verifies it."""
    return model(x).to(x.dtype)


def logit_margin(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Per sample: positive while not adversarial, negative once adversarial (see module docstring)."""
    cls = y if target is None else target
    own = logits.gather(1, cls[:, None]).squeeze(1)
    others = logits.scatter(1, cls[:, None], float("-inf")).amax(dim=1)
    return own - others if target is None else others - own


def is_adversarial(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """The base's own success test (arg-max), so what we keep is what it verifies."""
    pred = logits.argmax(dim=1)
    return pred != y if target is None else pred == target


def keep_best(
    best: torch.Tensor, best_dist: torch.Tensor, cand: torch.Tensor, dist: torch.Tensor, ok: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace ``best`` where ``cand`` is adversarial (``ok``) and strictly closer."""
    better = ok & (dist < best_dist)
    mask = better.reshape(-1, *([1] * (cand.ndim - 1)))
    return torch.where(mask, cand, best), torch.where(better, dist, best_dist)


def widest_perturbation(model: Model, x: torch.Tensor) -> torch.Tensor:
    """Per coordinate, the largest move the bounds allow from ``x``: max(x − lower, upper − x)."""
    lo, hi = model.bounds.lower.to(x), model.bounds.upper.to(x)
    return torch.maximum(x - lo, hi - x)


def attack_remaining(
    model: Model,
    x: torch.Tensor,
    y: torch.Tensor,
    target: torch.Tensor | None,
    attack: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
) -> torch.Tensor:
    """Run ``attack(x, y, target)`` only on the inputs not already adversarial.

    An input the model already gets wrong (or already assigns to the target) is its own
    minimal adversarial, at distance 0: it is masked out once, never iterated on.
    """
    with torch.no_grad():
        done = is_adversarial(model(x), y, target)
    if done.all():
        return x.clone()
    if not done.any():
        return attack(x, y, target)
    todo = (~done).nonzero().squeeze(1)
    out = x.clone()
    out[todo] = attack(x[todo], y[todo], None if target is None else target[todo])
    return out
