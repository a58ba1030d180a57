"""Synthetic part of ``linear-dimension``: Gaussian classes in n dimensions, three ways to grow n.

Each regime draws x = s ⊙ (y·μₙ + σₙ·z) with y = ±1, a fixed random sign pattern
s and z ~ N(0, I), and uses the best linear classifier of that distribution,
w = (μₙ/σₙ²)·s, b = 0 (computed, not trained, so the scaling is the data's, not
training noise). Then ε* = |w·x| / ‖w‖₁ = |margin| / (m·n) with m = μₙ/σₙ².

* fixed m and margin: μₙ = a/n, σₙ = σ₀/√n. The accuracy Φ(a/σ₀) and the margin's
  distribution do not depend on n, and m = a/σ₀² is constant: the assumptions of
  the ε·m·n argument. Theory: ε* ∝ 1/n.
* fixed per-coordinate noise: μₙ = δ/√n, σₙ = σ. Same accuracy Φ(δ/σ) for every n,
  but m ∝ n^−½. Theory: ε* ∝ n^−½.
* fixed per-coordinate signal: μₙ = μ, σₙ = σ. The task gets easier with n and the
  margin grows like n, as fast as ‖w‖₁. Theory: ε* → μ, slope 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from advlab.attacks import ATTACKS
from advlab.models import wrap


@dataclass(frozen=True)
class Regime:
    label: str
    theory_slope: float
    note: str
    signal: float  # μ·n^signal_power
    signal_power: float
    noise: float  # σ·n^noise_power
    noise_power: float

    def mu_sigma(self, n: int) -> tuple[float, float]:
        return self.signal * n**self.signal_power, self.noise * n**self.noise_power


REGIMES: dict[str, Regime] = {
    "fixed_m": Regime("fixed m and margin", -1.0, "the ε·m·n argument: margin and m fixed as n grows", 1.0, -1.0, 0.5, -0.5),
    "fixed_noise": Regime("fixed per-coordinate noise", -0.5, "same accuracy for every n, m ∝ n^-1/2", 1.0, -0.5, 0.5, 0.0),
    "fixed_signal": Regime("fixed per-coordinate signal", 0.0, "margin grows like n: ε* → μ", 0.5, 0.0, 1.0, 0.0),
}
CHUNK = 64  # rows generated at once, to bound memory at n = 10⁵


def _sample(regime: Regime, n: int, count: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x, y ∈ {0, 1}, w) for ``count`` points."""
    mu, sigma = regime.mu_sigma(n)
    s = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
    y = torch.arange(count) % 2
    sign = (2 * y - 1).float()[:, None]
    x = torch.cat([s * (sign[i : i + CHUNK] * mu + sigma * torch.randn(len(sign[i : i + CHUNK]), n, generator=gen))
                   for i in range(0, count, CHUNK)])
    return x, y, (mu / sigma**2) * s


def between_middle(values: torch.Tensor) -> float:
    """A value halfway between the two middle order statistics: no point sits exactly on it."""
    v = values[torch.isfinite(values)].sort().values
    k = len(v) // 2
    return float((v[k - 1] + v[k]) / 2) if len(v) > 1 else float(v[0])


def _fgsm_agreement(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, eps_star: torch.Tensor, correct: torch.Tensor) -> float:
    """advlab's FGSM at the median ε* fools exactly the points whose exact ε* is below it.

    FGSM ascends the logit margin (loss="cw"): at margins of hundreds, as in the fixed-signal
    regime, the cross-entropy gradient underflows to exactly 0 in float32 and FGSM would not move.
    """
    n = x.shape[1]
    layer = nn.Linear(n, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.stack([-w / 2, w / 2]))
        layer.bias.zero_()
    eps = between_middle(eps_star)
    bound = float(x.abs().max()) + 10 * eps + 1.0  # a box so wide that it never clips
    model = wrap(layer, bounds=(-bound, bound), classes=2, input_shape=(n,))
    result = ATTACKS.create("fgsm", loss="cw")(model, x[correct], y[correct], eps=eps, seed=0)
    return (result.success[0] == (eps_star <= eps)).float().mean().item()


def synthetic_sweep(dims: list[int], count: int, seed: int = 0) -> dict[str, Any]:
    """Per regime: median exact ε* per n, the fitted log–log slope and an FGSM check at the middle n."""
    if count < 2 or any(n < 1 for n in dims):
        raise ValueError(f"linear-dimension: need ≥ 2 samples and positive dimensions, got {count} and {dims}")
    out: dict[str, Any] = {}
    check_n = dims[len(dims) // 2]
    for key, regime in REGIMES.items():
        gen = torch.Generator().manual_seed(seed * 7919 + len(key))
        rows = []
        for n in dims:
            x, y, w = _sample(regime, n, count, gen)
            margin = x @ w
            correct = (margin > 0).long() == y
            eps_star = margin[correct].abs() / w.abs().sum()
            row = {"n": n, "accuracy": correct.float().mean().item(), "m": w.abs().mean().item(),
                   "median_abs_margin": margin[correct].abs().median().item(), "median_eps": eps_star.median().item()}
            if n == check_n:
                row["fgsm_agreement_with_exact"] = _fgsm_agreement(x, y, w, eps_star, correct)
            rows.append(row)
        ns = np.array([r["n"] for r in rows], dtype=float)
        eps = np.array([r["median_eps"] for r in rows])
        slope = float(np.polyfit(np.log(ns), np.log(eps), 1)[0])
        centre = math.exp(float(np.log(eps).mean()))
        theory = centre * np.exp(regime.theory_slope * (np.log(ns) - np.log(ns).mean()))
        out[key] = {"label": regime.label, "theory_slope": regime.theory_slope, "slope": slope, "n": ns.tolist(),
                    "median_eps": eps.tolist(), "theory_eps": theory.tolist(), "rows": rows}
    return out
