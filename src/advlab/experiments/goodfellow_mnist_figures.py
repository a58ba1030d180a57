"""Figures of goodfellow-mnist: adversarial error beside the paper's, rubbish-input confidence histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from advlab.experiments.goodfellow_mnist_eval import CONFIDENT


def error_bars(rows: Sequence[Mapping[str, Any]], eps: float) -> Any:
    """Grouped horizontal bars: ours (paper's unclipped FGSM), ours (clipped) and the paper, per model/method.

    ``rows``: dicts with ``label``, ``unclipped``, ``clipped`` (fractions) and ``paper`` (percent or None).
    """
    import matplotlib.pyplot as plt

    n = len(rows)
    fig, ax = plt.subplots(figsize=(8.5, 0.55 * n + 1.9))
    y = np.arange(n)[::-1]
    h = 0.27
    series = [
        ("ours: FGSM as in the paper (no clipping)", [100 * r["unclipped"] for r in rows], "tab:blue"),
        ("ours: FGSM clipped to [0, 1]", [100 * r["clipped"] for r in rows], "tab:cyan"),
        ("paper", [np.nan if r["paper"] is None else r["paper"] for r in rows], "tab:orange"),
    ]
    for j, (label, values, color) in enumerate(series):
        ax.barh(y + (1 - j) * h, values, height=h, color=color, label=label)
        for yy, v in zip(y + (1 - j) * h, values):
            if np.isfinite(v):
                ax.text(v + 0.8, yy, f"{v:.1f}", va="center", fontsize=7)
    ax.set_yticks(y, [r["label"] for r in rows])
    ax.set_xlim(0, 112)
    ax.set_xlabel(f"error rate on FGSM adversarial examples, ε = {eps:g} (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / n - 0.04), ncol=3, fontsize=7, frameon=False)
    ax.set_title("MNIST: adversarial error per model and training method (ours beside Goodfellow et al.)")
    fig.tight_layout()
    return fig


def rubbish_histograms(confidences: Mapping[str, torch.Tensor], fractions: Mapping[str, float],
                       paper: Mapping[str, float | None], *, clipped: bool) -> Any:
    """One histogram per model of its top-class probability on N(0, I) inputs; the 0.5 threshold dashed."""
    import matplotlib.pyplot as plt

    names = list(confidences)
    fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 3.0), sharey=True, squeeze=False)
    bins = np.linspace(0.0, 1.0, 41)
    for ax, name in zip(axes[0], names):
        ax.hist(confidences[name].numpy(), bins=bins, color="tab:purple")
        ax.axvline(CONFIDENT, color="k", ls="--", lw=1)
        ref = paper.get(name)
        ref_txt = "" if ref is None else f" (paper {ref:g}%)"
        ax.set_title(f"{name}\n{100 * fractions[name]:.1f}% above 0.5{ref_txt}", fontsize=9)
        ax.set_xlabel("top-class probability")
    axes[0][0].set_ylabel("rubbish inputs")
    what = "clipped to [0, 1]" if clipped else "unclipped, as in the paper"
    fig.suptitle(f"Gaussian rubbish N(0, I) ({what}): how confident is each model?", fontsize=10)
    fig.tight_layout()
    return fig
