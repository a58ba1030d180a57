"""Class-probability profiles along the triangle a → b → c → a (Świrszczyński et al., Fig. 7).

``compute_profiles(model, a, b, c)`` samples each side of the triangle (endpoints
included, so the values at the anchors are the model's own probabilities there) and
returns the probabilities of every class against the arc length (input-space L2).
Segments between points of the box stay in the box (it is convex), so every sample is
a valid input. ``ProfileDisplay`` draws one line per class in the fixed class colours,
with vertical markers at a, b, c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.models.model import Model
from advlab.viz.colors import class_color
from advlab.viz.third_points import as_input


@dataclass
class ProfileData:
    """Probabilities (P, K) at arc-length positions (P,) along a closed path through the anchors."""

    positions: np.ndarray  # (P,) cumulative L2 arc length from the first anchor
    probabilities: np.ndarray  # (P, K)
    anchor_positions: np.ndarray  # (A + 1,) positions of the anchors, the first repeated at the end when closed
    anchor_names: tuple[str, ...]  # names at anchor_positions
    class_names: tuple[str, ...]
    segment: np.ndarray  # (P,) index of the side each sample lies on

    @property
    def labels(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def at_anchor(self, k: int) -> np.ndarray:
        """Probabilities (K,) exactly at anchor k (a sample sits on every anchor)."""
        i = int(np.argmin(np.abs(self.positions - self.anchor_positions[k])))
        return self.probabilities[i]

    def class_changes(self, segment: int | None = None) -> int:
        """How many times the predicted class changes along the path (or along one side)."""
        labels = self.labels if segment is None else self.labels[self.segment == segment]
        return int((np.diff(labels) != 0).sum())


def compute_profiles(
    model: Model,
    a: Any,
    b: Any,
    c: Any = None,
    *,
    points: int = 200,
    names: Sequence[str] = ("a", "b", "c"),
    closed: bool = True,
    batch_size: int = 4096,
) -> ProfileData:
    """Probabilities of every class along a → b → c (→ a when ``closed``); ``c=None`` gives a → b alone.

    ``points`` samples per side, both endpoints included.
    """
    if not isinstance(model, Model):
        raise TypeError(f"compute_profiles: expected an advlab Model, got {type(model).__name__}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"compute_profiles: points must be an integer ≥ 2 (samples per side), got {points!r}")
    raw = [a, b] if c is None else [a, b, c]
    if len(names) < len(raw):
        raise ValueError(f"compute_profiles: names needs {len(raw)} entries, got {len(names)}")
    anchors = [as_input(x, model, f"compute_profiles: {n}") for x, n in zip(raw, names)]
    path = anchors + [anchors[0]] if closed and len(anchors) > 2 else anchors
    w = torch.linspace(0.0, 1.0, points, dtype=torch.float64)
    xs, pos, seg, anchor_pos = [], [], [], [0.0]
    start = 0.0
    for k, (p, q) in enumerate(zip(path[:-1], path[1:])):
        p64, q64 = p.double(), q.double()
        xs.append(((1 - w).view(-1, *[1] * p.ndim) * p64 + w.view(-1, *[1] * p.ndim) * q64).float())
        length = float((q64 - p64).norm())
        pos.append(start + w.numpy() * length)
        seg.append(np.full(points, k))
        start += length
        anchor_pos.append(start)
    x = model.bounds.clip(torch.cat(xs))  # rounding only: convex combinations of points in H
    probs = model.predict_proba(x, batch_size=batch_size).cpu().numpy()
    anchor_names = tuple(names[k % len(anchors)] for k in range(len(path)))
    return ProfileData(np.concatenate(pos), probs, np.array(anchor_pos), anchor_names, tuple(model.classes), np.concatenate(seg))


class ProfileDisplay:
    """``ProfileDisplay(data).plot(ax=None)`` returns self with ``figure_`` and ``ax_``."""

    def __init__(self, data: ProfileData):
        if not isinstance(data, ProfileData):
            raise TypeError(f"ProfileDisplay: expected ProfileData (from compute_profiles), got {type(data).__name__}")
        self.data = data
        self.figure_: Any = None
        self.ax_: Any = None

    def plot(self, ax: Any = None, *, log: bool = False, legend: bool = True, title: str | None = None,
             min_peak: float = 0.0) -> ProfileDisplay:
        """One line per class (classes whose probability never exceeds ``min_peak`` are left out)."""
        import matplotlib.pyplot as plt

        d = self.data
        if ax is None:
            _, ax = plt.subplots(figsize=(7.5, 3.6))
        for k, name in enumerate(d.class_names):
            if d.probabilities[:, k].max() <= min_peak:
                continue
            ax.plot(d.positions, d.probabilities[:, k], color=class_color(k), linewidth=1.6, label=name)
        for pos, name in zip(d.anchor_positions, d.anchor_names):
            ax.axvline(pos, color="0.25", linestyle="--", linewidth=0.9, zorder=0)
            ax.annotate(name, (pos, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=10, fontweight="bold")
        if log:
            ax.set_yscale("log")
            ax.set_ylim(max(1e-6, float(np.nanmin(d.probabilities[d.probabilities > 0])) if (d.probabilities > 0).any() else 1e-6), 1.05)
        else:
            ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(d.positions[0], d.positions[-1])
        ax.set_xlabel("L2 distance along the path " + " → ".join(d.anchor_names))
        ax.set_ylabel("class probability")
        if legend:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="class", title_fontsize=8)
        if title:
            ax.set_title(title, pad=16)
        self.ax_, self.figure_ = ax, ax.figure
        return self
