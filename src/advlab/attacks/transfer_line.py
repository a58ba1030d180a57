"""Transfer with a line search: attack a differentiable substitute, then search the target model
along the substitute's perturbation direction.

For each input the substitute's adversarial gives a direction d = x_sub − x; the
target model is probed at clip(x + t·d) for t in ``scales`` (the first adversarial
t is kept), then a binary search on the segment finds the smallest adversarial
on it. Decision-based on the target (needs no gradient of it), so it works for
ABS, binarised and nearest-neighbour models; the result is verified on the target
by the attack template like every other attack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from advlab.attacks.base import Attack
from advlab.attacks.line_search import binary_search, is_adversarial
from advlab.attacks.validation import check_positive_int
from advlab.models.model import Model


class TransferLine(Attack):
    """``TransferLine(substitute, attack)``: ``attack`` (a minimisation attack) on ``substitute``, then a line search."""

    name: ClassVar[str] = "transfer-line"
    minimization: ClassVar[bool] = True
    needs_gradient: ClassVar[bool] = False

    def __init__(self, substitute: Model, attack: Attack, *, scales: Sequence[float] = (1, 1.5, 2, 3, 4, 6, 8, 12, 16),
                 binary_steps: int = 12):
        if not isinstance(substitute, Model):
            raise TypeError(f"transfer-line: substitute must be an advlab Model, got {type(substitute).__name__}")
        if not isinstance(attack, Attack) or not attack.minimization:
            raise TypeError(f"transfer-line: attack must be a minimisation Attack, got {attack!r}")
        super().__init__(attack.norm.name)
        if not scales or any(float(s) <= 0 for s in scales):
            raise ValueError(f"transfer-line: scales must be positive numbers, got {scales!r}")
        self.substitute, self.attack = substitute, attack
        self.scales = sorted(float(s) for s in scales)
        self.binary_steps: int = check_positive_int(binary_steps, "transfer-line: binary_steps", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"substitute": self.substitute.spec.get("family"), "inner": self.attack.config(), "scales": self.scales,
                "binary_steps": self.binary_steps}

    def run(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, eps: torch.Tensor | None,
            target: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        sub = self.attack(self.substitute, x.cpu(), y.cpu(), target=None if target is None else target.cpu(),
                          seed=int(torch.randint(0, 2**62, (1,), generator=generator)))
        with torch.no_grad():
            return self._search(model, x, y, target, sub.adversarials[0].to(x.device) - x)

    def _search(self, model: Model, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None,
                d: torch.Tensor) -> torch.Tensor:
        end = x.clone()
        found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for s in self.scales:
            todo = (~found).nonzero().flatten()
            if len(todo) == 0:
                break
            cand = model.bounds.clip(x[todo] + s * d[todo])
            ok = is_adversarial(model, cand, y[todo], None if target is None else target[todo])
            end[todo[ok]] = cand[ok]
            found[todo[ok]] = True
        return binary_search(model, x, end, y, target, found, self.binary_steps)
