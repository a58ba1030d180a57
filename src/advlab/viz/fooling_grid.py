"""Fooling images as a class × strategy grid (compute → ``FoolingGridData``, draw → ``FoolingGridDisplay``).

``fooling_grid(results)`` lines up several ``FoolingResult``s (one per
strategy) by target class; ``FoolingGridDisplay(data).plot()`` draws one row per
class and one column per strategy, each image titled with the probability the
model gives the target class (red when it reaches the required confidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advlab.fooling.result import FoolingResult


@dataclass
class FoolingGridData:
    images: np.ndarray  # K×S×H×W or K×S×H×W×3 (NaN where a strategy has no image for that class)
    target_confidences: np.ndarray  # K×S, p(target | image) (NaN: none)
    success: np.ndarray  # K×S bool
    queries: np.ndarray  # K×S (−1: none)
    classes: np.ndarray  # K class indices (rows)
    class_names: tuple[str, ...]
    strategies: tuple[str, ...]  # S (columns)
    required: float
    value_range: tuple[float, float]


def _as_images(x: Any) -> np.ndarray:
    a = x.detach().cpu().float().numpy()
    if a.ndim == 4 and a.shape[1] == 1:
        return a[:, 0]
    if a.ndim == 4 and a.shape[1] == 3:
        return np.moveaxis(a, 1, -1)
    if a.ndim == 3:
        return a
    raise ValueError(f"fooling grid: expected images (N, 1|3, H, W) or (N, H, W), got {tuple(a.shape)}")


def fooling_grid(results: Mapping[str, FoolingResult] | Sequence[FoolingResult], *, classes: Sequence[int] | None = None,
                 value_range: tuple[float, float] = (0.0, 1.0)) -> FoolingGridData:  # fmt: skip
    """Arrays for the grid: rows are ``classes`` (default: every target any result has), columns the results."""
    items = list(results.items()) if isinstance(results, Mapping) else [(r.strategy, r) for r in results]
    if not items:
        raise ValueError("fooling grid: expected at least one FoolingResult, got none")
    for name, r in items:
        if not isinstance(r, FoolingResult):
            raise TypeError(f"fooling grid: expected FoolingResult values, got {type(r).__name__} for {name!r}")
    shapes = {tuple(r.images.shape[1:]) for _, r in items if len(r)}
    if len(shapes) != 1:
        raise ValueError(f"fooling grid: results hold images of different shapes {sorted(shapes)}")
    rows = sorted({int(t) for _, r in items for t in r.targets}) if classes is None else [int(c) for c in classes]
    names = next((r.class_names for _, r in items if r.class_names), ())
    k_max = max(rows) + 1
    class_names = tuple(names) if len(names) >= k_max else tuple(str(i) for i in range(k_max))
    sample = _as_images(next(r for _, r in items if len(r)).images[:1])[0]
    images = np.full((len(rows), len(items), *sample.shape), np.nan, dtype=np.float32)
    conf = np.full((len(rows), len(items)), np.nan)
    success = np.zeros((len(rows), len(items)), dtype=bool)
    queries = np.full((len(rows), len(items)), -1, dtype=np.int64)
    for j, (_, r) in enumerate(items):
        imgs = _as_images(r.images) if len(r) else None
        ok = r.success
        for i, c in enumerate(rows):
            hits = (r.targets == c).nonzero().flatten()
            if len(hits) and imgs is not None:
                n = int(hits[0])
                images[i, j] = imgs[n]
                conf[i, j] = float(r.target_confidences[n])
                success[i, j] = bool(ok[n])
                queries[i, j] = int(r.queries[n])
    required = max(r.required for _, r in items)
    return FoolingGridData(images, conf, success, queries, np.asarray(rows), class_names, tuple(n for n, _ in items),
                           required, value_range)  # fmt: skip


class FoolingGridDisplay:
    """Draw ``FoolingGridData``: ``FoolingGridDisplay.from_results(results).figure_``."""

    def __init__(self, data: FoolingGridData):
        self.data = data
        self.figure_: Any = None
        self.axes_: Any = None

    @classmethod
    def from_results(cls, results: Mapping[str, FoolingResult] | Sequence[FoolingResult], *, title: str | None = None,
                     **kwargs: Any) -> FoolingGridDisplay:  # fmt: skip
        return cls(fooling_grid(results, **kwargs)).plot(title=title)

    def plot(self, fig: Any = None, *, title: str | None = None, cell: float = 1.25) -> FoolingGridDisplay:
        import matplotlib.pyplot as plt

        d = self.data
        k, s = d.target_confidences.shape
        if fig is None:
            fig = plt.figure(figsize=(cell * s + 1.2, cell * k + 0.9))
        axes = fig.subplots(k, s, squeeze=False)
        lo, hi = d.value_range
        grey = d.images.ndim == 4
        for i in range(k):
            for j in range(s):
                ax = axes[i][j]
                ax.set_xticks([])
                ax.set_yticks([])
                if np.isnan(d.target_confidences[i, j]):
                    ax.set_facecolor("0.85")
                    ax.set_title("n/a", fontsize=7, color="0.4")
                else:
                    ax.imshow(d.images[i, j], cmap="gray" if grey else None, vmin=lo, vmax=hi, interpolation="nearest")
                    p = d.target_confidences[i, j]
                    text = f"{p:.4f}" if p < 0.9999 else f"{p:.6f}"
                    ax.set_title(text, fontsize=7, color="tab:red" if d.success[i, j] else "0.35")
                if j == 0:
                    ax.set_ylabel(f"'{d.class_names[d.classes[i]]}'", fontsize=9)
                if i == 0:
                    ax.text(0.5, 1.45, d.strategies[j], transform=ax.transAxes, ha="center", va="bottom", fontsize=8)
        fig.suptitle(title or f"Fooling images: row = target class, column = strategy; title = p(target) "
                     f"(red: ≥ {d.required:g})", fontsize=9)  # fmt: skip
        fig.tight_layout()
        self.figure_, self.axes_ = fig, axes
        return self
