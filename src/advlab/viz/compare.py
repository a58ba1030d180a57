"""The same slice for several models, side by side with one shared legend.

``compare_slices(models, a, b, c)`` computes one ``SliceData`` per model through the same
a, b, c with the same geometry (the plane, the rectangle and the pixel grid depend only
on a, b, c, the box and the options, so every panel shows the same inputs at the same
place); the models must share their input box. ``CompareDisplay`` draws the panels with
one legend and each panel's component counts and the class it gives a, b and c.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.models.model import Model
from advlab.viz.components import component_counts
from advlab.viz.slices import SliceData, compute_slice


@dataclass
class CompareData:
    """One slice per model name, all through the same anchors."""

    slices: dict[str, SliceData]
    anchor_predictions: dict[str, list[int]]  # each model's class at a, b, c (the inputs themselves)

    @property
    def names(self) -> list[str]:
        return list(self.slices)

    def anchor_classes(self, name: str) -> list[str]:
        """The class names each model gives a, b and c."""
        names = self.slices[name].class_names
        return [names[k] for k in self.anchor_predictions[name]]


def _named(models: Mapping[str, Model] | Sequence[Model]) -> dict[str, Model]:
    named = dict(models) if isinstance(models, Mapping) else {f"model {i}": m for i, m in enumerate(models)}
    if not named:
        raise ValueError("compare_slices: give at least one model")
    for name, m in named.items():
        if not isinstance(m, Model):
            raise TypeError(f"compare_slices: {name!r} is a {type(m).__name__}, expected an advlab Model")
    return named


def compare_slices(models: Mapping[str, Model] | Sequence[Model], a: Any, b: Any, c: Any, **slice_options: Any) -> CompareData:
    """``compute_slice`` (same keywords) for every model through the same a, b, c."""
    named = _named(models)
    first = next(iter(named.values()))
    for name, m in named.items():
        if tuple(m.input_shape) != tuple(first.input_shape):
            raise ValueError(f"compare_slices: {name!r} takes inputs shaped {m.input_shape}, the first model {first.input_shape}")
        same = torch.equal(m.bounds.lower.cpu().expand(m.input_shape), first.bounds.lower.cpu().expand(first.input_shape)) and \
            torch.equal(m.bounds.upper.cpu().expand(m.input_shape), first.bounds.upper.cpu().expand(first.input_shape))
        if not same:
            raise ValueError(f"compare_slices: {name!r} has bounds {m.bounds!r}, the first model {first.bounds!r}; a shared slice needs one box")
    slices = {name: compute_slice(m, a, b, c, **slice_options) for name, m in named.items()}
    anchors = {name: _classes_at_anchors(m, slices[name]) for name, m in named.items()}
    return CompareData(slices, anchors)


def _classes_at_anchors(model: Model, data: SliceData) -> list[int]:
    x = torch.as_tensor(data.to_input(data.anchors), dtype=torch.float32)
    return [int(k) for k in model.predict(model.bounds.clip(x)).cpu()]


class CompareDisplay:
    """``CompareDisplay(data).plot(ncols=None)`` returns self with ``figure_`` and ``axes_``."""

    def __init__(self, data: CompareData):
        if not isinstance(data, CompareData):
            raise TypeError(f"CompareDisplay: expected CompareData (from compare_slices), got {type(data).__name__}")
        self.data = data
        self.figure_: Any = None
        self.axes_: Any = None

    def plot(self, fig: Any = None, *, ncols: int | None = None, title: str | None = None, connectivity: int = 4,
             images: Sequence[Any] | None = None, panel_size: float = 3.6) -> CompareDisplay:
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        from advlab.viz.colors import INFEASIBLE_GREY, class_color
        from advlab.viz.slice_display import SliceDisplay

        names = self.data.names
        n = len(names)
        ncols = min(n, ncols or 4)
        nrows = -(-n // ncols)
        if fig is None:
            fig = plt.figure(figsize=(panel_size * ncols + 1.2, panel_size * nrows + 1.4))
        axes = np.atleast_2d(fig.subplots(nrows, ncols, squeeze=False))
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, names):
            data = self.data.slices[name]
            SliceDisplay(data).plot(ax, thumbnails=False, legend=False, scale_bar=True, images=images)
            counts = component_counts(data, connectivity)
            pieces = sum(counts.values())
            cls = "/".join(self.data.anchor_classes(name))
            ax.set_title(f"{name}\na, b, c → {cls}; {pieces} regions", fontsize=9, pad=14)
            ax.set_xlabel("s (L2)", fontsize=8)
            ax.set_ylabel("t (L2)", fontsize=8)
        first = self.data.slices[names[0]]
        handles = [Patch(facecolor=class_color(k), label=nm) for k, nm in enumerate(first.class_names)]
        if any(not s.feasible.all() for s in self.data.slices.values()):
            handles.append(Patch(facecolor=INFEASIBLE_GREY, edgecolor="0.72", hatch="////", label="outside H"))
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 11), fontsize=8, frameon=False)
        fig.suptitle(title or f"One slice, {n} models (regions: {connectivity}-connected components of class regions)", fontsize=10)
        fig.tight_layout(rect=(0, 0.09, 1, 0.96))
        self.figure_, self.axes_ = fig, axes
        return self
