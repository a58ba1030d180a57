"""Figures of madry-mnist: robust accuracy against ε (FMN-L∞) and training curves."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def _styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One colour per training kind (grey for the standard model), solid for seed 0 and dashed for later seeds."""
    import matplotlib.pyplot as plt

    kinds: list[str] = []
    out = {}
    for name in names:
        kind = re.sub(r"-s\d+$", "", name)
        if kind not in kinds:
            kinds.append(kind)
        color = "tab:gray" if kind == "standard" else plt.get_cmap("tab10")(kinds.index(kind) % 10)
        out[name] = {"color": color, "ls": "--" if re.search(r"-s[1-9]\d*$", name) else "-"}
    return out


def robust_curves(eps: Sequence[float], curves: Mapping[str, Sequence[float]], pgd: Mapping[str, float],
                  fgsm: Mapping[str, float], eps_attack: float, labels: Mapping[str, str]) -> Any:
    """Accuracy under FMN-L∞ for every ε (one run per model); PGD-50×10 and FGSM at ``eps_attack`` as markers."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10.5, 5.0))
    styles = _styles(list(curves))
    for name, acc in curves.items():
        style = styles[name]
        color = style["color"]
        ax.plot(eps, [100 * a for a in acc], marker="o", ms=3, **style, label=f"{labels[name]}: FMN-L∞")
        ax.plot([eps_attack], [100 * pgd[name]], "s", ms=8, mfc="none", color=color)
        ax.plot([eps_attack], [100 * fgsm[name]], "^", ms=7, mfc="none", color=color)
    ax.plot([], [], "s", mfc="none", color="k", label=f"PGD-50 × 10 restarts at ε = {eps_attack:g}")
    ax.plot([], [], "^", mfc="none", color="k", label=f"FGSM at ε = {eps_attack:g}")
    ax.axvline(eps_attack, color="k", lw=0.6, ls=":")
    ax.set_xlabel("ε (L∞)")
    ax.set_ylabel("robust accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.set_title("MNIST cnn-small: robust accuracy against ε")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def training_curves(histories: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                    probes: Mapping[str, Sequence[Mapping[str, float]]], eps: float) -> Any:
    """Per epoch: training loss, training-batch accuracy (adversarial batches for robust training), clean test
    accuracy and the PGD probe's robust accuracy (a drop to ~0 is catastrophic overfitting)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    styles = _styles(list(histories))
    for name, h in histories.items():
        style = styles[name]
        ep = [e["epoch"] for e in h["epochs"]]
        axes[0].plot(ep, [e["loss"] for e in h["epochs"]], marker="o", ms=3, **style, label=labels[name])
        axes[1].plot(ep, [100 * e["train_accuracy"] for e in h["epochs"]], marker="x", ms=3, lw=0.6,
                     color=style["color"], ls=":")
        axes[1].plot(ep, [100 * e["test_accuracy"] for e in h["epochs"]], marker="o", ms=3, **style, label=labels[name])
        probe = probes.get(name, [])
        axes[2].plot([p["epoch"] for p in probe], [100 * p["robust_accuracy"] for p in probe], marker="o", ms=3,
                     **style, label=labels[name])
    axes[0].set_title("training loss")
    axes[1].set_title("clean test accuracy (%); dotted: accuracy on the training batches")
    axes[2].set_title(f"PGD probe robust accuracy at ε = {eps:g} (%)")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[2].legend(fontsize=6)
    fig.tight_layout()
    return fig
