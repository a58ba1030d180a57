"""Figures of abs-mnist: per-class reconstructions, minimal adversarials (Madry vs ABS), distal images,
and the certified bound against the empirical minimal L2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch


def reconstructions(x: torch.Tensor, recs: torch.Tensor, elbos: torch.Tensor, labels: Sequence[int]) -> Any:
    """Row per digit: the input, then each class's best synthesis with its ELBO (the winner framed)."""
    import matplotlib.pyplot as plt

    n, k = recs.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=(1.2 * (k + 1), 1.35 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(x[i, 0], cmap="gray", vmin=0, vmax=1)
        axes[i, 0].set_title(f"input ({labels[i]})", fontsize=7)
        best = int(elbos[i].argmin())
        for c in range(k):
            ax = axes[i, c + 1]
            ax.imshow(recs[i, c, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{c}: {elbos[i, c]:.3f}", fontsize=7, color="tab:red" if c == best else "black")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("ABS: each class's best synthesis and its ELBO (lowest wins, red)", fontsize=9)
    fig.tight_layout()
    return fig


def adversarial_pairs(x: torch.Tensor, advs: Mapping[str, torch.Tensor], dists: Mapping[str, Sequence[float]],
                      preds: Mapping[str, Sequence[int]]) -> Any:
    """Column per digit: clean, then each model's minimal L2 adversarial (distance and predicted class)."""
    import matplotlib.pyplot as plt

    rows = ["clean", *advs]
    fig, axes = plt.subplots(len(rows), len(x), figsize=(1.3 * len(x), 1.45 * len(rows)), squeeze=False)
    for j in range(len(x)):
        axes[0, j].imshow(x[j, 0], cmap="gray", vmin=0, vmax=1)
        for i, name in enumerate(advs, start=1):
            d = dists[name][j]
            axes[i, j].imshow(advs[name][j, 0], cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_title("none found" if d == float("inf") else f"→{preds[name][j]} L2 {d:.2f}", fontsize=7)
    for i, name in enumerate(rows):
        axes[i, 0].set_ylabel(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Minimal L2 adversarials of the same digits", fontsize=9)
    fig.tight_layout()
    return fig


def distal_images(results: Mapping[str, Mapping[str, Any]], classes: Sequence[int]) -> Any:
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(len(names), len(classes), figsize=(1.2 * len(classes), 1.45 * len(names)), squeeze=False)
    for i, name in enumerate(names):
        r = results[name]
        for j, c in enumerate(classes):
            axes[i, j].imshow(r["images"][j, 0], cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_title(f"{c}: p={r['confidence'][j]:.2f}", fontsize=7,
                                 color="black" if r["reached"][j] else "tab:gray")
        axes[i, 0].set_ylabel(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Distal images: ascent from uniform noise until confidence ≥ 0.9 (grey: not reached)", fontsize=9)
    fig.tight_layout()
    return fig


def bound_vs_empirical(bound: Sequence[float], empirical: Sequence[float]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    b, e = torch.tensor(bound), torch.tensor(empirical)
    fin = torch.isfinite(e)
    ax.scatter(b[fin], e[fin], s=12)
    top = float(max(e[fin].max() if fin.any() else 1.0, b.max() if len(b) else 1.0)) * 1.05
    ax.plot([0, top], [0, top], color="gray", ls="--", lw=1, label="empirical = bound")
    ax.set_xlabel("certified L2 lower bound")
    ax.set_ylabel("smallest L2 adversarial found")
    ax.set_title("ABS: certified bound vs empirical minimal L2 per image", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
