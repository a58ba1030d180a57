"""The 2-D hidden space of a bottleneck network: embeddings over the head's decision regions.

A ``Classifier(features, head)`` whose ``features`` end in 2 units has a
drawable hidden space; the linear ``head`` cuts it into class regions exactly as
a softmax regression cuts a 2-D input space, so ``compute_regions`` and
``RegionDisplay`` draw it unchanged. ``draw_targets`` adds chosen hidden points
and the points actually reached by inputs found for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from advlab.viz.colors import class_color
from advlab.viz.regions import RegionData, compute_regions

Limits = tuple[tuple[float, float], tuple[float, float]]


def head_regions(head: torch.nn.Module, xlim: tuple[float, float], ylim: tuple[float, float], class_names: Sequence[str],
                 *, resolution: int = 300) -> RegionData:  # fmt: skip
    """Decision regions of a (2 → K) head over its hidden space."""
    weight = next(head.parameters())
    if weight.shape[-1] != 2:
        raise ValueError(f"head_regions: expected a head taking 2 hidden units, got input width {weight.shape[-1]}")

    def probabilities(points: torch.Tensor) -> torch.Tensor:
        return torch.softmax(head(points.to(weight.device, weight.dtype)), dim=1)

    return compute_regions(probabilities, xlim, ylim, resolution=resolution, class_names=class_names,
                           feature_names=("hidden unit 1", "hidden unit 2"))  # fmt: skip


def limits_around(points: np.ndarray, pad: float = 0.15) -> Limits:
    """The bounding box of ``points`` (M, 2) grown by ``pad`` of its larger side on every side."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    margin = pad * float(max(hi - lo)) if len(pts) > 1 else 1.0
    return (float(lo[0] - margin), float(hi[0] + margin)), (float(lo[1] - margin), float(hi[1] + margin))


def draw_targets(ax: Any, targets: np.ndarray, reached: np.ndarray, classes: Sequence[int], labels: Sequence[str]) -> None:
    """Stars at the chosen hidden points, crosses where the found inputs land, a dashed line between."""
    mid_y = sum(ax.get_ylim()) / 2
    for t, r, k, text in zip(np.asarray(targets), np.asarray(reached), classes, labels, strict=True):
        colour = class_color(k)
        below = t[1] > mid_y  # labels point towards the middle so they stay inside the axes
        ax.plot([t[0], r[0]], [t[1], r[1]], linestyle="--", color="k", linewidth=1.0, zorder=4)
        ax.plot(*t, marker="*", markersize=17, color=colour, markeredgecolor="k", zorder=5)
        ax.plot(*r, marker="X", markersize=11, color=colour, markeredgecolor="k", zorder=5)
        ax.annotate(text, t, textcoords="offset points", xytext=(0, -12 if below else 12), ha="center",
                    va="top" if below else "bottom", fontsize=8, zorder=6,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "alpha": 0.85})  # fmt: skip
