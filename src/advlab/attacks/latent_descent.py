"""The latent descent attack on analysis-by-synthesis models (Schott et al., ICLR 2019).

ABS's decision is "which class synthesises x best", so the natural way to change
it is to move x toward the best synthesis of another class: each step
x ← x + λ·(G_c(z*_c(x)) − x), where c is the target or else the non-label class
with the lowest ELBO (recomputed at every step), until the prediction changes;
then a binary search on the line from the clean input to that point gives the
smallest adversarial on it. Decision-based (no gradients); needs an ABS model
(its per-class reconstructions). Each descent step is one inference (it gives both
the check and the goal); the queries counted are the model calls of the binary search.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.line_search import binary_search
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int
from advlab.models.abs import abs_net
from advlab.models.model import Model


@ATTACKS.register("latent-descent")
class LatentDescent(Attack):
    """Move toward the best other class's reconstruction (``stepsize`` λ per step), then binary search."""

    name: ClassVar[str] = "latent-descent"
    minimization: ClassVar[bool] = True
    needs_gradient: ClassVar[bool] = False

    def __init__(self, norm: str = "l2", *, steps: int = 50, stepsize: float = 0.05, binary_steps: int = 12):
        super().__init__(norm)
        self.steps: int = check_positive_int(steps, "latent-descent: steps", allow_none=False) or 1
        self.binary_steps: int = check_positive_int(binary_steps, "latent-descent: binary_steps", allow_none=False) or 1
        if not isinstance(stepsize, (int, float)) or not math.isfinite(stepsize) or not 0 < stepsize <= 1:
            raise ValueError(f"latent-descent: stepsize must be in (0, 1], got {stepsize!r}")
        self.stepsize = float(stepsize)

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "stepsize": self.stepsize, "binary_steps": self.binary_steps}

    @torch.no_grad()
    def run(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, eps: torch.Tensor | None,
            target: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        net = abs_net(model)
        cur = x.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for step in range(self.steps + 1):
            active = (~done).nonzero().flatten()
            if len(active) == 0:
                break
            inf = net.infer(cur[active], reconstructions=True)  # one inference: the check and the goal
            assert inf.reconstructions is not None
            pred = net.logits_from_elbos(inf.elbos).argmax(1)
            adv = pred == target[active] if target is not None else pred != y[active]
            done[active[adv]] = True
            if step == self.steps:
                break
            keep = ~adv
            a, rows = active[keep], torch.arange(len(active), device=x.device)[keep]
            if target is not None:
                cls = target[a]
            else:
                e = inf.elbos[rows].clone()
                e[torch.arange(len(a)), y[a]] = float("inf")
                cls = e.argmin(1)
            goal = inf.reconstructions[rows, cls].reshape(cur[a].shape)
            cur[a] = model.bounds.clip(cur[a] + self.stepsize * (goal - cur[a]))
        return binary_search(model, x, cur, y, target, done, self.binary_steps)
