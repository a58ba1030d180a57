"""Spatial attack (Engstrom et al., ICML 2019): a grid search over small rotations and translations.

The grid holds ``rotations`` angles in [−max_angle, max_angle] degrees and ``translations``
shifts per axis in [−max_shift, max_shift] pixels. Transforms are tried from the smallest
(in |angle|/max_angle + |dx|/max_shift + |dy|/max_shift) up, and each sample keeps the first
that fools the model: one query per sample per transform until it is fooled. Pixels moved in
from outside the image take the lower bound. Reported as a minimisation attack in the chosen
norm (default L2) over the transformed images.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from advlab.attacks.query import QueryAttack, rows
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_int


@ATTACKS.register("spatial")
class Spatial(QueryAttack):
    """``Spatial(max_angle=30, max_shift=3, rotations=7, translations=7, max_queries=None)``."""

    name = "spatial"
    minimization = True

    def __init__(
        self, norm: str = "l2", max_angle: float = 30.0, max_shift: float = 3.0, rotations: int = 7,
        translations: int = 7, max_queries: int | None = None,
    ):
        super().__init__(norm, max_queries)
        if not (math.isfinite(max_angle) and max_angle >= 0 and math.isfinite(max_shift) and max_shift >= 0):
            raise ValueError(f"spatial: max_angle and max_shift must be finite and ≥ 0, got {max_angle}, {max_shift}")
        self.max_angle, self.max_shift = float(max_angle), float(max_shift)
        self.rotations: int = check_positive_int(rotations, "spatial: rotations", allow_none=False) or 1
        self.translations: int = check_positive_int(translations, "spatial: translations", allow_none=False) or 1

    def params(self) -> dict[str, Any]:
        return {"max_angle": self.max_angle, "max_shift": self.max_shift, "rotations": self.rotations, "translations": self.translations}

    def grid(self) -> list[tuple[float, float, float]]:
        """(angle in degrees, dx, dy in pixels), smallest first, the identity left out."""
        angles = torch.linspace(-self.max_angle, self.max_angle, self.rotations).tolist() if self.rotations > 1 else [0.0]
        shifts = torch.linspace(-self.max_shift, self.max_shift, self.translations).tolist() if self.translations > 1 else [0.0]
        grid = [(a, dx, dy) for a in angles for dx in shifts for dy in shifts if (a, dx, dy) != (0.0, 0.0, 0.0)]

        def size(t: tuple[float, float, float]) -> float:
            return abs(t[0]) / max(self.max_angle, 1e-12) + (abs(t[1]) + abs(t[2])) / max(self.max_shift, 1e-12)

        return sorted(grid, key=size)

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"spatial: needs images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
        img = x if x.ndim == 4 else x[:, None]
        lo = oracle.bounds.lower.to(x).expand(x.shape).reshape(img.shape)
        best = img.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for angle, dx, dy in self.grid():
            idx = rows(~done & ~oracle.exhausted())
            if not len(idx):
                break
            moved = transform(img[idx] - lo[idx], angle, dx, dy) + lo[idx]
            ok = oracle.adversarial(moved.reshape(len(idx), *x.shape[1:]), y, target, owner=idx)
            best[idx[ok]] = moved[ok]
            done[idx[ok]] = True
        return best.reshape(x.shape)


def transform(img: torch.Tensor, angle: float, dx: float, dy: float) -> torch.Tensor:
    """Rotate ``img`` (N, C, H, W) by ``angle`` degrees about its centre and shift it by (dx, dy) pixels
    (bilinear; zeros enter from outside)."""
    n, _, h, w = img.shape
    a = math.radians(angle)
    theta = torch.tensor(
        [[math.cos(a), -math.sin(a) * h / w, -2 * dx / w], [math.sin(a) * w / h, math.cos(a), -2 * dy / h]],
        dtype=img.dtype, device=img.device,
    )
    grid = F.affine_grid(theta.expand(n, 2, 3), list(img.shape), align_corners=False)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
