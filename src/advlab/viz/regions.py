"""Decision regions of a classifier on a 2-D input space (compute) and their picture (Display).

``compute_regions`` evaluates a model (or any function mapping (M, 2) points to
class probabilities) on a grid; ``RegionDisplay`` draws class hues shaded by
confidence, optional decision boundaries, data points, circled mistakes and
marked query points. Slices of image space reuse the same drawing pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.viz.colors import class_color, region_rgba

ProbabilityFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class RegionData:
    """Grid of pixel centres ``xx``/``yy`` (R_y × R_x) with labels and per-class probabilities."""

    xx: np.ndarray
    yy: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, str] = ("x₁", "x₂")

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=-1)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return (float(self.xx.min()), float(self.xx.max()), float(self.yy.min()), float(self.yy.max()))


def _as_probability_fn(model: Any) -> ProbabilityFn:
    if hasattr(model, "predict_proba") and isinstance(model, torch.nn.Module):
        return lambda pts: model.predict_proba(pts)  # type: ignore[operator]  # a Model, not a tensor attribute
    if callable(model):
        return model
    raise TypeError(f"compute_regions: expected an advlab Model or a function points → probabilities, got {type(model).__name__}")


def compute_regions(
    model: Any,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    resolution: int = 300,
    class_names: Sequence[str] | None = None,
    feature_names: tuple[str, str] | None = None,
    batch_size: int = 65536,
) -> RegionData:
    """Evaluate ``model`` on a ``resolution``² grid over ``xlim`` × ``ylim`` (no autograd, batched)."""
    if resolution < 2:
        raise ValueError(f"compute_regions: resolution must be ≥ 2, got {resolution}")
    for name, (lo, hi) in {"xlim": xlim, "ylim": ylim}.items():
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"compute_regions: {name} must be (low, high) with low < high, got {(lo, hi)}")
    fn = _as_probability_fn(model)
    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    pts = torch.tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        probs = torch.cat([fn(pts[i : i + batch_size]).float().cpu() for i in range(0, len(pts), batch_size)]).numpy()
    probs = probs.reshape(resolution, resolution, -1)
    names = tuple(class_names or getattr(model, "classes", None) or [str(k) for k in range(probs.shape[-1])])
    return RegionData(xx, yy, probs.argmax(-1), probs, names, feature_names or ("x₁", "x₂"))


def draw_boundaries(ax: Any, xx: np.ndarray, yy: np.ndarray, probabilities: np.ndarray, **kwargs: Any) -> None:
    """Lines where two classes tie for the top probability (p_i = p_j ≥ every other p)."""
    order = np.argsort(-np.nan_to_num(probabilities, nan=-1), axis=-1)
    top, second = order[..., 0], order[..., 1]
    k = probabilities.shape[-1]
    style = {"colors": "k", "linewidths": 1.0, **kwargs}
    for i in range(k):
        for j in range(i + 1, k):
            pair = ((top == i) & (second == j)) | ((top == j) & (second == i))
            if not pair.any():
                continue
            diff = np.where(pair, probabilities[..., i] - probabilities[..., j], np.nan)
            if np.nanmin(diff) < 0 < np.nanmax(diff):
                ax.contour(xx, yy, diff, levels=[0.0], **style)


def draw_confidence_contours(ax: Any, data: RegionData, levels: Sequence[float], color: Any = "0.25") -> None:
    """Labelled lines of equal top probability, e.g. 0.9, 0.99, 0.999."""
    levels = sorted(float(v) for v in levels)
    if any(not 0.0 < v < 1.0 for v in levels):
        raise ValueError(f"contours: levels must lie strictly between 0 and 1, got {levels}")
    conf = data.confidence
    inside = [v for v in levels if conf.min() < v < conf.max()]
    if not inside:
        return
    cs = ax.contour(data.xx, data.yy, conf, levels=inside, colors=[color], linewidths=0.8, linestyles="dashed")
    ax.clabel(cs, fmt=lambda v: f"{v:g}", fontsize=7, inline=True)


def draw_markers(ax: Any, markers: Sequence[tuple[float, float, str]], extent: tuple[float, float, float, float]) -> None:
    """Gold stars with boxed labels; each label leans towards the middle of the axes so it stays inside."""
    cx, cy = (extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2
    for mx, my, text in markers:
        dx, dy = (-8 if mx > cx else 8), (-10 if my > cy else 8)
        ax.plot(mx, my, marker="*", color="gold", markeredgecolor="k", markersize=14, zorder=5)
        ax.annotate(text, (mx, my), textcoords="offset points", xytext=(dx, dy), fontsize=8, zorder=6,
                    ha="right" if dx < 0 else "left", va="top" if dy < 0 else "bottom",
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "alpha": 0.85})


class RegionDisplay:
    """Draw ``RegionData``: ``RegionDisplay(data).plot(ax=None, points=…, labels=…)`` returns self."""

    def __init__(self, data: RegionData):
        self.data = data
        self.figure_: Any = None
        self.ax_: Any = None

    @classmethod
    def from_model(cls, model: Any, xlim: tuple[float, float], ylim: tuple[float, float], *, ax: Any = None, resolution: int = 300, **plot_kwargs: Any) -> RegionDisplay:
        return cls(compute_regions(model, xlim, ylim, resolution=resolution)).plot(ax=ax, **plot_kwargs)

    def plot(
        self,
        ax: Any = None,
        *,
        kind: str = "regions",
        points: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        circled: np.ndarray | None = None,
        markers: Sequence[tuple[float, float, str]] = (),
        boundaries: bool = True,
        contours: Sequence[float] = (),
        legend: bool = True,
        legend_loc: str = "upper left",
        colorbar: bool = True,
        point_size: float = 18.0,
        fade: float = 0.0,
        title: str | None = None,
    ) -> RegionDisplay:
        """``kind="regions"``: class hues shaded by confidence; ``"confidence"``: the top probability as a heat map.

        ``contours`` draws labelled lines of equal top probability (e.g. ``(0.9, 0.99)``);
        ``markers`` are (x, y, text) stars whose labels lean towards the middle of the axes;
        ``fade`` in [0, 1) blends the region colours towards white so points drawn on top stand out.
        """
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D

        if kind not in {"regions", "confidence"}:
            raise ValueError(f"RegionDisplay.plot: kind must be 'regions' or 'confidence', got {kind!r}")
        if not 0.0 <= fade < 1.0:
            raise ValueError(f"RegionDisplay.plot: fade must be in [0, 1), got {fade}")
        d = self.data
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        extent = d.extent
        if kind == "regions":
            rgba = region_rgba(d.labels, d.confidence, num_classes=len(d.class_names))
            rgba[..., :3] = 1.0 - (1.0 - fade) * (1.0 - rgba[..., :3])
            ax.imshow(rgba, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
        else:
            im = ax.imshow(d.confidence, origin="lower", extent=extent, aspect="auto", cmap="viridis", vmin=1 / len(d.class_names), vmax=1.0)
            if colorbar:
                ax.figure.colorbar(im, ax=ax, label="max class probability")
        if boundaries:
            draw_boundaries(ax, d.xx, d.yy, d.probabilities, colors="white" if kind == "confidence" else "k")
        if contours:
            draw_confidence_contours(ax, d, contours, color="white" if kind == "confidence" else "0.25")
        if points is not None:
            pts = np.asarray(points)
            colors = [class_color(c) for c in (point_labels if point_labels is not None else np.zeros(len(pts), int))]
            ax.scatter(pts[:, 0], pts[:, 1], c=colors, s=point_size, edgecolors="k", linewidths=0.4, zorder=3)
            if circled is not None and np.any(circled):
                bad = pts[np.asarray(circled, dtype=bool)]
                ax.scatter(bad[:, 0], bad[:, 1], s=160, facecolors="none", edgecolors="red", linewidths=1.6, zorder=4)
        draw_markers(ax, markers, extent)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel(d.feature_names[0])
        ax.set_ylabel(d.feature_names[1])
        if legend:
            handles = [Line2D([], [], marker="s", linestyle="", color=class_color(k), label=name) for k, name in enumerate(d.class_names)]
            ax.legend(handles=handles, loc=legend_loc, fontsize=8, framealpha=0.85)
        if title:
            ax.set_title(title)
        self.ax_, self.figure_ = ax, ax.figure
        return self
