"""The four iris-fooling pictures, each with one panel per model (logistic regression | MLP)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from advlab.viz.colors import class_color
from advlab.viz.regions import RegionDisplay, compute_regions
from advlab.viz.uncertainty import Ties, draw_ties

DATA_WINDOW = ((0.0, 7.5), (-0.2, 3.0))
PHYSICAL_BOX = (0.0, 10.0)
_MARKERS = ("o", "s", "^", "D", "v", "P")


class FittedPanel(Protocol):
    key: str
    title: str
    model: Any
    accuracy: float
    predictions: np.ndarray

    def proba(self, points: np.ndarray) -> np.ndarray: ...


def _panels(n: int, height: float = 5.0) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(6.2 * n, height), squeeze=False, layout="constrained")
    return fig, axes[0]


def _regions(fm: FittedPanel, window: tuple[tuple[float, float], tuple[float, float]], names: Sequence[str], resolution: int) -> Any:
    return compute_regions(fm.model, window[0], window[1], resolution=resolution, class_names=names,
                           feature_names=("petal length (cm)", "petal width (cm)"))  # fmt: skip


def _panel_title(fm: FittedPanel) -> str:
    return f"{fm.title}: {100 * fm.accuracy:.1f}% of flowers right"


def predictions_figure(models: Sequence[FittedPanel], x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> Any:
    """Flowers coloured by predicted species, shaped by true species; mistakes circled."""
    from matplotlib.lines import Line2D

    fig, axes = _panels(len(models), 4.6)
    for ax, fm in zip(axes, models, strict=True):
        pred = fm.predictions
        for true in range(len(names)):
            sel = y == true
            ax.scatter(x[sel, 0], x[sel, 1], c=[class_color(p) for p in pred[sel]], marker=_MARKERS[true % len(_MARKERS)],
                       s=30, edgecolors="k", linewidths=0.4, zorder=3)  # fmt: skip
        wrong = pred != y
        ax.scatter(x[wrong, 0], x[wrong, 1], s=220, facecolors="none", edgecolors="red", linewidths=1.6, zorder=4)
        ax.set_xlim(*DATA_WINDOW[0])
        ax.set_ylim(*DATA_WINDOW[1])
        ax.set_xlabel("petal length (cm)")
        ax.set_ylabel("petal width (cm)")
        ax.grid(alpha=0.3)
        ax.set_title(f"{_panel_title(fm)} ({int(wrong.sum())} circled)", fontsize=10)
        shapes = [Line2D([], [], marker=_MARKERS[k % len(_MARKERS)], linestyle="", color="0.6", markeredgecolor="k",
                         label=f"true {n}") for k, n in enumerate(names)]  # fmt: skip
        colours = [Line2D([], [], marker="s", linestyle="", color=class_color(k), label=f"predicted {n}") for k, n in enumerate(names)]
        circle = [Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor="red", markersize=11,
                         label="misclassified")]  # fmt: skip
        ax.legend(handles=shapes + colours + circle, loc="upper left", fontsize=7.5, ncol=2, framealpha=0.9)
    return fig


def regions_figure(models: Sequence[FittedPanel], x: np.ndarray, y: np.ndarray, names: Sequence[str], resolution: int) -> Any:
    fig, axes = _panels(len(models), 4.6)
    for ax, fm in zip(axes, models, strict=True):
        RegionDisplay(_regions(fm, DATA_WINDOW, names, resolution)).plot(
            ax, points=x, point_labels=y, circled=fm.predictions != y, fade=0.3, title=_panel_title(fm))
    return fig


def ties_figure(models: Sequence[FittedPanel], ties: dict[str, Ties], x: np.ndarray, y: np.ndarray, names: Sequence[str],
                window: tuple[tuple[float, float], tuple[float, float]], resolution: int) -> Any:  # fmt: skip
    """Tie lines (exact for the linear model, contours for the MLP) and the least certain point."""
    fig, axes = _panels(len(models), 5.2)
    for ax, fm in zip(axes, models, strict=True):
        exact = bool(ties[fm.key].segments)
        RegionDisplay(_regions(fm, _window_around(window, ties[fm.key]), names, resolution)).plot(
            ax, points=x, point_labels=y, boundaries=not exact, legend_loc="lower right", point_size=12, fade=0.3,
            title=f"{fm.title}: where it is least certain")
        draw_ties(ax, ties[fm.key], names, fm.proba)
        if not exact:
            ax.text(0.02, 0.98, "black curves: two species tie\n(P equal, → ½ away from the third)", transform=ax.transAxes,
                    va="top", fontsize=8, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "alpha": 0.85})  # fmt: skip
    return fig


def _window_around(window: tuple[tuple[float, float], tuple[float, float]], ties: Ties, margin: float = 1.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """``window`` grown to show every tie point with ``margin`` cm around it."""
    (x0, x1), (y0, y1) = window
    for tp in ties.points:
        px, py = (float(v) for v in tp.point)
        x0, x1, y0, y1 = min(x0, px - margin), max(x1, px + margin), min(y0, py - margin), max(y1, py + margin)
    return (x0, x1), (y0, y1)


def _query_label(point: tuple[float, float], probs: np.ndarray, names: Sequence[str]) -> str:
    k = int(np.argmax(probs))
    return f"({point[0]:g}, {point[1]:g})\n{names[k]} {probs[k]:.3f}"


def far_figure(models: Sequence[FittedPanel], x: np.ndarray, y: np.ndarray, names: Sequence[str],
               points: Sequence[tuple[float, float]], window: tuple[tuple[float, float], tuple[float, float]],
               resolution: int) -> Any:  # fmt: skip
    """Probability map far beyond the data with the query points and the physical box."""
    from matplotlib.patches import Rectangle

    fig, axes = _panels(len(models), 5.6)
    pts = np.asarray(points, dtype=np.float64)
    for ax, fm in zip(axes, models, strict=True):
        probs = fm.proba(pts)
        markers = [(p[0], p[1], _query_label(p, pr, names)) for p, pr in zip(points, probs, strict=True)]
        RegionDisplay(_regions(fm, window, names, resolution)).plot(
            ax, points=x, point_labels=y, point_size=8, markers=markers, contours=(0.9, 0.99, 0.999),
            legend_loc="lower left", title=f"{fm.title}: far from the data")
        lo, hi = PHYSICAL_BOX
        ax.add_patch(Rectangle((lo, lo), hi - lo, hi - lo, fill=False, linestyle=":", linewidth=1.2, edgecolor="k", zorder=2))
    return fig


