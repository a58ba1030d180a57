"""Where a 2-D classifier is least certain: lines where two classes tie, points where three tie.

For a linear softmax the logits are z_k = w_k·x + b_k, so classes i and j tie
on the straight line (w_i − w_j)·x + (b_i − b_j) = 0; on the part of that line
where i and j are the top two, P(i) = P(j) → 1/2 away from the other classes.
Three classes tie where two such lines cross (solve a 2×2 system); with three
classes that point has P = 1/3 each. ``linear_ties`` computes both exactly,
``least_certain_point`` finds the lowest top probability of any model
numerically, and ``draw_ties`` labels them on an axes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Window = tuple[tuple[float, float], tuple[float, float]]


@dataclass
class TieSegment:
    """The part of the line ``coef·x + offset = 0`` inside the window where ``classes`` are the top two."""

    classes: tuple[int, int]
    coef: np.ndarray
    offset: float
    start: np.ndarray
    end: np.ndarray


@dataclass
class TiePoint:
    """A point where ``classes`` share the top probability (``probabilities`` over all classes)."""

    classes: tuple[int, ...]
    point: np.ndarray
    probabilities: np.ndarray


@dataclass
class Ties:
    segments: list[TieSegment] = field(default_factory=list)
    points: list[TiePoint] = field(default_factory=list)


def softmax_np(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_linear(weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weight, dtype=np.float64)
    b = np.asarray(bias, dtype=np.float64).reshape(-1)
    if w.ndim != 2 or w.shape[1] != 2 or w.shape[0] != b.shape[0] or w.shape[0] < 2:
        raise ValueError(f"linear_ties: expected weight (K, 2) and bias (K,) with K ≥ 2, got {w.shape} and {b.shape}")
    return w, b


def _interval(p0: np.ndarray, d: np.ndarray, rows: list[tuple[np.ndarray, float]]) -> tuple[float, float] | None:
    """The t for which every ``a·(p0 + t d) + c ≤ 0`` holds."""
    lo, hi = -np.inf, np.inf
    for a, c in rows:
        alpha, beta = float(a @ d), float(a @ p0 + c)
        if abs(alpha) < 1e-12:
            if beta > 0:
                return None
        elif alpha > 0:
            hi = min(hi, -beta / alpha)
        else:
            lo = max(lo, -beta / alpha)
    return (lo, hi) if lo < hi else None


def _window_rows(window: Window) -> list[tuple[np.ndarray, float]]:
    (x0, x1), (y0, y1) = window
    return [(np.array([-1.0, 0.0]), x0), (np.array([1.0, 0.0]), -x1), (np.array([0.0, -1.0]), y0), (np.array([0.0, 1.0]), -y1)]


def linear_ties(weight: Any, bias: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> Ties:
    """Exact tie lines and tie points of softmax(W x + b) on a 2-D window."""
    w, b = _check_linear(weight, bias)
    k = len(b)
    ties = Ties()
    box = _window_rows((xlim, ylim))
    for i, j in itertools.combinations(range(k), 2):
        a, c = w[i] - w[j], b[i] - b[j]
        norm2 = float(a @ a)
        if norm2 < 1e-24:
            continue
        p0 = -c * a / norm2
        d = np.array([-a[1], a[0]]) / np.sqrt(norm2)
        others = [(w[m] - w[i], b[m] - b[i]) for m in range(k) if m not in (i, j)]
        span = _interval(p0, d, others + box)
        if span is not None:
            ties.segments.append(TieSegment((i, j), a, float(c), p0 + span[0] * d, p0 + span[1] * d))
    for trio in itertools.combinations(range(k), 3):
        i, j, m = trio
        system = np.array([w[i] - w[j], w[i] - w[m]])
        if abs(np.linalg.det(system)) < 1e-12:
            continue
        x = np.linalg.solve(system, -np.array([b[i] - b[j], b[i] - b[m]]))
        z = w @ x + b
        inside = xlim[0] <= x[0] <= xlim[1] and ylim[0] <= x[1] <= ylim[1]
        if inside and z[list(trio)].min() >= z.max() - 1e-9:
            ties.points.append(TiePoint(trio, x, softmax_np(z)))
    return ties


def least_certain_point(
    probability_fn: Callable[[np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    resolution: int = 200,
) -> TiePoint:
    """Lowest top probability over the window: grid search, then Nelder–Mead from the best cell."""
    from scipy.optimize import minimize

    xs, ys = np.linspace(*xlim, resolution), np.linspace(*ylim, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    top = probability_fn(grid).max(axis=1)
    start = grid[int(np.argmin(top))]

    def objective(p: np.ndarray) -> float:
        p = np.clip(p, [xlim[0], ylim[0]], [xlim[1], ylim[1]])
        return float(probability_fn(p[None])[0].max())

    res = minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9})
    best = np.clip(res.x, [xlim[0], ylim[0]], [xlim[1], ylim[1]]) if res.fun <= objective(start) else start
    probs = probability_fn(best[None])[0]
    order = np.argsort(-probs)
    tied = tuple(sorted(int(c) for c in order if probs[order[0]] - probs[c] < 0.01))
    return TiePoint(tied, best, probs)


def _fmt_point(p: np.ndarray) -> str:
    return f"({p[0]:.2f}, {p[1]:.2f})"


def draw_ties(
    ax: Any,
    ties: Ties,
    class_names: Sequence[str],
    probability_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    label_at: float = 0.72,
) -> None:
    """Draw tie segments (labelled with the tied classes and their probability there) and tie points."""
    for seg in ties.segments:
        ax.plot(*np.stack([seg.start, seg.end]).T, color="k", linewidth=2.0, zorder=4)
        far = _far_end(seg, ties)
        spot = far[1] + label_at * (far[0] - far[1])
        i, j = seg.classes
        text = f"P({class_names[i]}) = P({class_names[j]})"
        if probability_fn is not None:
            text += f" = {float(probability_fn(spot[None])[0][i]):.2f}"
        ax.annotate(text, spot, fontsize=7.5, ha="center", va="center", zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "k", "lw": 0.5, "alpha": 0.9})
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for tp in ties.points:
        ax.plot(*tp.point, marker="o", markersize=11, color="white", markeredgecolor="k", markeredgewidth=2, zorder=5)
        what = "triple point" if len(tp.classes) == 3 else "least certain point"
        if len(tp.classes) == 3:
            text = "P = " + " / ".join(f"{tp.probabilities[c]:.3f}" for c in tp.classes) + " (all three tie)"
        else:
            text = " = ".join(f"P({class_names[c]})" for c in tp.classes) + f" = {tp.probabilities[tp.classes[0]]:.3f}"
        # Lean the label towards the middle of the axes so it stays inside.
        right, up = tp.point[0] < (x0 + x1) / 2, tp.point[1] < (y0 + y1) / 2
        ax.annotate(f"{what} {_fmt_point(tp.point)}\n{text}", tp.point, textcoords="offset points",
                    xytext=(10 if right else -10, 8 if up else -8), ha="left" if right else "right",
                    va="bottom" if up else "top", fontsize=8, zorder=6,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "lightyellow", "ec": "k", "lw": 0.6})


def _far_end(seg: TieSegment, ties: Ties) -> tuple[np.ndarray, np.ndarray]:
    """(far end, near end) of a segment: near is the end closer to a tie point, so labels sit out on the ray."""
    if not ties.points:
        return seg.end, seg.start
    centres = np.stack([tp.point for tp in ties.points])
    d_start = np.linalg.norm(centres - seg.start, axis=1).min()
    d_end = np.linalg.norm(centres - seg.end, axis=1).min()
    return (seg.end, seg.start) if d_start <= d_end else (seg.start, seg.end)
