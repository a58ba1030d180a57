"""A starting adversarial for minimisation attacks that stall on robust models (FMN's adversarial init).

Two sources, cheapest first for what they can do:

* L∞/L2: APGD at a growing radius (1/16, √2/16, 1/8, … of the widest perturbation the
  bounds allow), each run only on the inputs still without an adversarial.
* any norm, no gradient needed: the segment from ``x`` towards another input of
  the batch the model already assigns an adversarial class (or a uniform random
  input that it does), cut by bisection to the point closest to ``x`` that is
  still adversarial.
"""

from __future__ import annotations

import torch

from advlab.attacks.margins import is_adversarial, widest_perturbation
from advlab.models.model import Model

#: Radii tried, as fractions of the widest perturbation the bounds allow: 1/16 · √2^k up to 1, so the
#: adversarial found is at most √2 times the smallest radius at which APGD succeeds.
LADDER = tuple(min(1.0, 2 ** (k / 2) / 16) for k in range(9))


def adversarial_start(
    model: Model,
    x: torch.Tensor,
    y: torch.Tensor,
    target: torch.Tensor | None,
    norm: str,
    generator: torch.Generator,
    steps: int = 20,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(starting points, which are adversarial) for a batch; a point with no adversarial found is ``x``."""
    out = x.clone()
    ok = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    if norm in ("linf", "l2"):
        from advlab.attacks.apgd import APGD

        apgd = APGD(norm, steps=steps)
        widest = apgd.norm.distance(widest_perturbation(model, x))
        for frac in LADDER:
            todo = (~ok).nonzero().squeeze(1)
            if todo.numel() == 0:
                break
            t = None if target is None else target[todo]
            adv, hit, _ = apgd.descend(model, x[todo], y[todo], widest[todo] * frac, t, t, generator)
            out[todo[hit]] = adv[hit]
            ok[todo[hit]] = True
    todo = (~ok).nonzero().squeeze(1)
    if todo.numel():
        t = None if target is None else target[todo]
        adv, hit = blended_start(model, x[todo], y[todo], t, generator)
        out[todo[hit]] = adv[hit]
        ok[todo[hit]] = True
    return out, ok


@torch.no_grad()
def blended_start(
    model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, generator: torch.Generator,
    candidates: int = 64, bisections: int = 12,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adversarial closest to ``x`` on the segment towards an adversarial candidate (batch inputs,
    then uniform random inputs), found by bisection; (points, found)."""
    lo, hi = model.bounds.lower.to(x), model.bounds.upper.to(x)
    noise = lo + (hi - lo) * torch.rand((candidates, *x.shape[1:]), generator=generator, dtype=x.dtype).to(x.device)
    pool = torch.cat([x, noise])
    pool_pred = model(pool).argmax(dim=1)
    out, ok = x.clone(), torch.zeros(len(x), dtype=torch.bool, device=x.device)
    for i in range(len(x)):
        good = pool_pred == target[i] if target is not None else pool_pred != y[i]
        if not good.any():
            continue
        # The candidate nearest to x_i in L2.
        cands = pool[good]
        j = (cands - x[i]).flatten(1).norm(dim=1).argmin()
        end = cands[j]
        a, b = 0.0, 1.0  # x_i + b(end − x_i) is adversarial, + a(…) is not
        for _ in range(bisections):
            m = (a + b) / 2
            z = x[i] + m * (end - x[i])
            t = None if target is None else target[i : i + 1]
            if is_adversarial(model(z[None]), y[i : i + 1], t)[0]:
                b = m
            else:
                a = m
        out[i], ok[i] = x[i] + b * (end - x[i]), True
    return out, ok
