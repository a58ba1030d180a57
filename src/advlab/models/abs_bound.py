"""A certified L2 lower bound on the minimal adversarial of an ABS model, per input.

The argument of Schott et al. (ICLR 2019, "lower bounds on robustness"), made exact
for the score the model uses, s_c(x) = min_{‖z‖≤R} ‖x − G_c(z)‖² + ½‖z‖² (784·ELBO_c,
class scalings 1). Let y be the predicted class, z_y its latent and r_y = ‖x − G_y(z_y)‖.
For any δ with ‖δ‖₂ ≤ ε:

* the predicted class can only get worse by  s_y(x + δ) ≤ ‖x + δ − G_y(z_y)‖² + ½‖z_y‖²
  ≤ U(ε) = s_y(x) + 2ε·r_y + ε²;
* another class c can only get better by  s_c(x + δ) ≥ L_c(ε), because every z with
  ½‖z‖² = p ≤ P = ½R² has ‖x − G_c(z)‖ ≥ √(s_c − p) and the triangle inequality
  gives ‖x + δ − G_c(z)‖ ≥ √(s_c − p) − ε; minimising (√(s_c − p) − ε)₊² + p over p:
  L_c(ε) = s_c + ε² − 2ε√(s_c − P)  if ε² ≤ s_c − P,  else  max(s_c − ε², 0).

The prediction cannot change while U(ε) < min_{c≠y} L_c(ε); U grows and L_c shrinks
with ε, so the certified radius is the root of U = min_c L_c, found by bisection.
Assumptions: (1) the inference is exact, i.e. the computed s_c(x) are the global minima
over the ball (in practice they are upper bounds, so the bound is as exact as the
inference, as in the paper); (2) the perturbed input's inference for class y finds a
latent at least as good as z_y. The pixel box [0, 1] is not used (it only shrinks the
set of perturbations). α, η and the 1/784 do not change the argmax and drop out.
Binary ABS has no such bound (binarisation is not Lipschitz).
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.models.abs import abs_net


def certified_l2(model: Any, x: torch.Tensor, iterations: int = 60) -> torch.Tensor:
    """Per input, the L2 radius within which (under the assumptions above) the predicted class cannot change."""
    net = abs_net(model)
    if net.binary or not torch.all(net.scalings == 1):
        raise ValueError("certified_l2: the bound holds for plain ABS (no binarisation, class scalings 1)")
    with torch.no_grad():
        inf = net.infer(x.to(net.bank.device), reconstructions=True)
        assert inf.reconstructions is not None
        d = x[0].numel()
        s = inf.elbos * d  # (N, K): ‖x − G(z)‖² + ½‖z‖²
        n = len(x)
        pred = s.argmin(1)
        rows = torch.arange(n)
        r_y = (x.reshape(n, -1).to(s.device) - inf.reconstructions[rows, pred].reshape(n, -1)).norm(dim=1)
        s_y = s[rows, pred]
        others = s.clone()
        others[rows, pred] = float("inf")
        return _radius(s_y, r_y, others, 0.5 * net.radius**2, iterations).cpu()


def _radius(s_y: torch.Tensor, r_y: torch.Tensor, others: torch.Tensor, p_max: float, iterations: int) -> torch.Tensor:
    finite = torch.where(torch.isfinite(others), others, torch.zeros_like(others))
    lo = torch.zeros_like(s_y)
    hi = finite.max(1).values.clamp_min(0).sqrt() + 1.0  # L_c = 0 there, below U
    for _ in range(iterations):
        mid = (lo + hi) / 2
        robust = _upper(s_y, r_y, mid) < _lower(others, mid[:, None], p_max).min(1).values
        lo = torch.where(robust, mid, lo)
        hi = torch.where(robust, hi, mid)
    return lo


def _upper(s_y: torch.Tensor, r_y: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return s_y + 2 * eps * r_y + eps**2


def _lower(s_c: torch.Tensor, eps: torch.Tensor, p_max: float) -> torch.Tensor:
    q = s_c - p_max
    near = eps**2 <= q
    a = s_c + eps**2 - 2 * eps * q.clamp_min(0).sqrt()
    b = (s_c - eps**2).clamp_min(0)
    return torch.where(torch.isinf(s_c), s_c, torch.where(near, a, b))
