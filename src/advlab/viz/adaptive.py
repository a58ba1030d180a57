"""Adaptive evaluation of a label grid: coarse lattice first, refine only where labels change.

The grid is cut into cells whose corners are pixel centres (every ``initial_step``
pixels, plus the last row/column). A cell whose four corners are feasible and share
one label is *uniform*: its other pixels are filled without calling the model. Any
other cell is split in two along each side longer than one pixel and its new corners
are evaluated, down to single pixels. Filled pixels get that label and probabilities
bilinearly interpolated from the four corners — a convex combination of vectors whose
argmax is k keeps argmax k, so filled probabilities agree with the filled label.

Because the feasible set (plane ∩ H) is convex, four feasible corners imply the whole
cell is feasible; cells with infeasible corners are always refined, so the grey border
is exact. What adaptive mode can miss is a class region that fits inside one coarse
cell without touching its corners (islands narrower than ``initial_step`` pixels).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (rows, cols) pixel indices → (n, classes) probabilities
Evaluate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def default_step(resolution: int) -> int:
    """Coarse lattice spacing: 8 pixels at 512², proportionally less for smaller grids (≥ 1)."""
    return max(1, int(resolution) // 64)


def _lattice(n: int, step: int) -> np.ndarray:
    return np.unique(np.concatenate([np.arange(0, n, step), [n - 1]]))


def _initial_cells(shape: tuple[int, int], step: int) -> np.ndarray:
    rows, cols = _lattice(shape[0], step), _lattice(shape[1], step)
    if len(rows) < 2 or len(cols) < 2:
        raise ValueError(f"adaptive grid: need at least 2 × 2 pixels, got {shape}")
    r0, c0 = np.meshgrid(rows[:-1], cols[:-1], indexing="ij")
    r1, c1 = np.meshgrid(rows[1:], cols[1:], indexing="ij")
    return np.stack([r0.ravel(), r1.ravel(), c0.ravel(), c1.ravel()], axis=1)


def _count(summed: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Feasible pixels inside each closed cell, from a summed-area table."""
    r0, r1, c0, c1 = cells.T
    return summed[r1 + 1, c1 + 1] - summed[r0, c1 + 1] - summed[r1 + 1, c0] + summed[r0, c0]


def _split(cells: np.ndarray) -> np.ndarray:
    """Halve every side longer than one pixel; children share their cut line."""
    r0, r1, c0, c1 = cells.T
    rm, cm = (r0 + r1) // 2, (c0 + c1) // 2
    split_r, split_c = r1 - r0 >= 2, c1 - c0 >= 2
    row_parts = [(r0, np.where(split_r, rm, r1), np.ones_like(split_r)), (rm, r1, split_r)]
    col_parts = [(c0, np.where(split_c, cm, c1), np.ones_like(split_c)), (cm, c1, split_c)]
    children = [
        np.stack([ra, rb, ca, cb], axis=1)[ok_r & ok_c]
        for ra, rb, ok_r in row_parts
        for ca, cb, ok_c in col_parts
    ]
    return np.concatenate(children)


def _fill(cells: np.ndarray, labels: np.ndarray, probs: np.ndarray, evaluated: np.ndarray, cell_labels: np.ndarray) -> None:
    """Fill the unevaluated pixels of uniform cells, one vectorised pass per cell size."""
    heights, widths = cells[:, 1] - cells[:, 0], cells[:, 3] - cells[:, 2]
    for h, w in set(zip(heights.tolist(), widths.tolist(), strict=True)):
        group = (heights == h) & (widths == w)
        r0, _, c0, _ = cells[group].T
        fr = np.arange(h + 1) / h
        fc = np.arange(w + 1) / w
        rows = r0[:, None] + np.arange(h + 1)  # (n, h+1)
        cols = c0[:, None] + np.arange(w + 1)  # (n, w+1)
        p00, p01 = probs[r0, c0], probs[r0, c0 + w]
        p10, p11 = probs[r0 + h, c0], probs[r0 + h, c0 + w]
        wr, wc = fr[None, :, None, None], fc[None, None, :, None]
        block = (
            (1 - wr) * (1 - wc) * p00[:, None, None] + (1 - wr) * wc * p01[:, None, None]
            + wr * (1 - wc) * p10[:, None, None] + wr * wc * p11[:, None, None]
        )
        rr, cc = rows[:, :, None], cols[:, None, :]
        done = evaluated[rr, cc]
        probs[rr, cc] = np.where(done[..., None], probs[rr, cc], block)
        labels[rr, cc] = np.where(done, labels[rr, cc], cell_labels[group][:, None, None])


def refine_grid(
    evaluate: Evaluate, feasible: np.ndarray, num_classes: int, *, initial_step: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (−1 infeasible), probabilities (NaN infeasible) and the mask of evaluated pixels."""
    feasible = np.asarray(feasible, dtype=bool)
    if feasible.ndim != 2:
        raise ValueError(f"adaptive grid: feasible must be a 2-D mask, got shape {feasible.shape}")
    step = default_step(max(feasible.shape)) if initial_step is None else int(initial_step)
    if step < 1:
        raise ValueError(f"adaptive grid: initial_step must be ≥ 1, got {initial_step}")
    labels = np.full(feasible.shape, -1, dtype=np.int64)
    probs = np.full((*feasible.shape, num_classes), np.nan, dtype=np.float32)
    evaluated = np.zeros(feasible.shape, dtype=bool)
    summed = np.zeros((feasible.shape[0] + 1, feasible.shape[1] + 1), dtype=np.int64)
    summed[1:, 1:] = feasible.cumsum(0).cumsum(1)

    def run(rows: np.ndarray, cols: np.ndarray) -> None:
        todo = feasible[rows, cols] & ~evaluated[rows, cols]
        flat = np.unique(rows[todo] * feasible.shape[1] + cols[todo])
        if flat.size:
            r, c = np.divmod(flat, feasible.shape[1])
            p = np.asarray(evaluate(r, c), dtype=np.float32)
            probs[r, c], labels[r, c], evaluated[r, c] = p, p.argmax(axis=1), True

    cells = _initial_cells(feasible.shape, step)
    while len(cells):
        cells = cells[_count(summed, cells) > 0]  # cells with no feasible pixel need nothing
        r0, r1, c0, c1 = cells.T
        corner_r = np.stack([r0, r0, r1, r1], axis=1)
        corner_c = np.stack([c0, c1, c0, c1], axis=1)
        run(corner_r.ravel(), corner_c.ravel())
        corner_labels = labels[corner_r, corner_c]
        uniform = (corner_labels >= 0).all(axis=1) & (corner_labels == corner_labels[:, :1]).all(axis=1)
        single = (r1 - r0 <= 1) & (c1 - c0 <= 1)  # every pixel is a corner: done
        fill = uniform & ~single
        if fill.any():
            _fill(cells[fill], labels, probs, evaluated, corner_labels[fill, 0])
        refine = ~uniform & ~single
        cells = _split(cells[refine]) if refine.any() else cells[:0]
    # Safety net: a feasible pixel left unlabelled (boundary rounding) is evaluated directly.
    missing = feasible & (labels < 0)
    if missing.any():
        run(*np.nonzero(missing))
    labels[~feasible], probs[~feasible] = -1, np.nan
    return labels, probs, evaluated
