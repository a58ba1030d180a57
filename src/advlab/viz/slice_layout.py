"""Where a slice picture's thumbnails and scale bar go: plain geometry in points, no drawing.

Every rectangle is (x0, y0, x1, y1) in points from the lower-left corner of the axes box.
Thumbnails are chosen jointly among fanned-out candidate offsets around their anchors, so
two anchors that nearly coincide (an image and its adversarial, often very close at the
scale of a slice) get thumbnails on different sides instead of on top of each other.
"""

from __future__ import annotations

import numpy as np

THUMB_POINTS = 36  # thumbnail size on screen, in points
THUMB_OFFSET = 48  # distance of a thumbnail from its anchor, in points (the far ring is 1.65× that)
NAME_HEIGHT = 14  # room for an anchor's name beside its thumbnail, in points
_TICK_BANDS = ((-26.0, 0.0, 0.0, 1.0), (0.0, -16.0, 1.0, 0.0))  # left and bottom tick labels (1.0: the box's size)
_CORNERS = ("lower right", "lower left", "upper right", "upper left", "center right", "center left")


def outward(frac: np.ndarray, away: np.ndarray) -> np.ndarray:
    """Preferred direction for a thumbnail: out through the edges an anchor sits on (length 1), else ``away``
    from the other anchors (length 1/3: inside the box, hiding less of the picture matters more)."""
    normal = np.array([float(frac[0] > 0.95) - float(frac[0] < 0.05), float(frac[1] > 0.95) - float(frac[1] < 0.05)])
    vec, length = (normal, 1.0) if normal.any() else (away, 1 / 3)
    n = float(np.linalg.norm(vec))
    return length * (vec / n if n > 1e-9 else np.array([0.0, 1.0]))


def name_below(offset: np.ndarray) -> np.ndarray:
    """Whether an anchor's name goes under its thumbnail (the thumbnail hangs below the anchor)."""
    return np.asarray(offset[..., 1] < -0.3 * THUMB_OFFSET)


def footprints(centres: np.ndarray, below: np.ndarray) -> np.ndarray:
    """(…, 4) rectangles covered by thumbnails centred at ``centres`` together with their names."""
    half = THUMB_POINTS / 2 + 3
    zero = np.zeros_like(below, dtype=float)
    lo = centres - half - np.stack([zero, NAME_HEIGHT * below], axis=-1)
    hi = centres + half + np.stack([zero, NAME_HEIGHT * ~below], axis=-1)
    return np.concatenate([lo, hi], axis=-1)


def overlap(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """Overlap area of rectangles (broadcast over leading axes)."""
    w = np.minimum(r1[..., 2], r2[..., 2]) - np.maximum(r1[..., 0], r2[..., 0])
    h = np.minimum(r1[..., 3], r2[..., 3]) - np.maximum(r1[..., 1], r2[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def covers(rects: np.ndarray, points: np.ndarray, margin: float) -> np.ndarray:
    """How many of ``points`` (M, 2) lie within ``margin`` of each rectangle."""
    x, y = points[:, 0], points[:, 1]
    inside = ((x >= rects[..., 0, None] - margin) & (x <= rects[..., 2, None] + margin)
              & (y >= rects[..., 1, None] - margin) & (y <= rects[..., 3, None] + margin))
    return inside.sum(axis=-1)


def segment_hits(rects: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether the segments start → end pass through the rectangles (sampled; broadcast over leading axes)."""
    t = np.linspace(0.1, 0.9, 9)
    pts = start[..., None, :] + t[:, None] * (end - start)[..., None, :]
    return ((pts[..., 0] > rects[..., 0, None]) & (pts[..., 0] < rects[..., 2, None])
            & (pts[..., 1] > rects[..., 1, None]) & (pts[..., 1] < rects[..., 3, None])).any(axis=-1)


def inside_h_share(rects: np.ndarray, box: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Share of each rectangle's area that hides slice pixels inside H (``feasible`` fills ``box``)."""
    rows, cols = feasible.shape
    table = np.zeros((rows + 1, cols + 1))
    table[1:, 1:] = feasible.cumsum(axis=0).cumsum(axis=1)  # summed-area table
    c = np.clip(np.rint(rects[..., [0, 2]] / max(box[2], 1e-9) * cols), 0, cols).astype(int)
    r = np.clip(np.rint(rects[..., [1, 3]] / max(box[3], 1e-9) * rows), 0, rows).astype(int)
    count = table[r[..., 1], c[..., 1]] - table[r[..., 0], c[..., 1]] - table[r[..., 1], c[..., 0]] + table[r[..., 0], c[..., 0]]
    area = (rects[..., 2] - rects[..., 0]) * (rects[..., 3] - rects[..., 1])
    return count * (box[2] / cols) * (box[3] / rows) / np.maximum(area, 1e-9)


def place_thumbnails(pos: np.ndarray, prefer: np.ndarray, markers: np.ndarray, box: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Offsets (n, 2) in points of the thumbnails of anchors at ``pos`` (n, 2), chosen jointly.

    Minimises: turning away from ``prefer`` (weighted by its length), hiding pixels inside H or the tick labels, covering an
    anchor marker (``markers``), and above all overlapping another thumbnail or crossing its leader line. Every
    combination of candidates is scored. The figure's edges play no part: the choice depends on the box alone, so
    it is the same in the dry run and the final draw of ``savefig(bbox_inches="tight")``, which makes room.
    """
    angles = np.deg2rad(np.arange(0, 360, 22.5))
    unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.concatenate([THUMB_OFFSET * unit, 1.65 * THUMB_OFFSET * unit])  # (m, 2)
    n, m = len(pos), len(offsets)
    centres = pos[:, None] + offsets[None]  # (n, m, 2)
    rects = footprints(centres, np.broadcast_to(name_below(offsets), (n, m)))
    area = (rects[..., 2] - rects[..., 0]) * (rects[..., 3] - rects[..., 1])
    turn = np.linalg.norm(prefer, axis=1)[:, None] - prefer @ unit.T  # (n, m/2)
    bands = [np.array(b) * np.array([1, 1, box[2], box[3]]) for b in _TICK_BANDS]
    hidden = 6 * inside_h_share(rects, box, feasible) + 20 * sum(overlap(rects, b) for b in bands) / area
    unary = 6 * np.concatenate([turn, turn], axis=1) + 2.0 * (np.arange(m) >= m // 2) + hidden
    unary = unary + 200 * covers(rects, markers, 6)
    total = np.zeros((m,) * n)
    for k in range(n):
        total = total + unary[k].reshape([m if i == k else 1 for i in range(n)])
        for j in range(k + 1, n):
            rk, rj = rects[k][:, None], rects[j][None, :]  # (m, m) grids: k's candidate × j's candidate
            both = overlap(rk, rj)
            pair = 1000 * (both / area[k][:, None] + (both > 0))
            start_k, end_k = np.broadcast_to(pos[k], (m, m, 2)), np.broadcast_to(centres[k][:, None], (m, m, 2))
            start_j, end_j = np.broadcast_to(pos[j], (m, m, 2)), np.broadcast_to(centres[j][None, :], (m, m, 2))
            pair = pair + 60 * (segment_hits(rk, start_j, end_j) | segment_hits(rj, start_k, end_k))
            total = total + pair.reshape([m if i in (k, j) else 1 for i in range(n)])
    best = np.unravel_index(int(np.argmin(total)), total.shape)
    return offsets[list(best)]


def scale_bar_corner(size: tuple[float, float], box: np.ndarray, markers: np.ndarray, rects: list[np.ndarray],
                     feasible: np.ndarray) -> str:
    """The ``loc`` of a scale bar of ``size`` (w, h) points: no anchor and no thumbnail under it, then the least of H."""
    w, h = size
    inset = 4.0
    costs = []
    for order, loc in enumerate(_CORNERS):
        x0 = box[2] - inset - w if "right" in loc else inset
        y0 = inset if "lower" in loc else box[3] - inset - h if "upper" in loc else (box[3] - h) / 2
        rect = np.array([x0, y0, x0 + w, y0 + h])
        cost = 1000.0 * float(covers(rect, markers, 8)) if len(markers) else 0.0
        cost += sum(500.0 * float(overlap(rect, r) > 0) for r in rects)
        costs.append(cost + 5.0 * float(inside_h_share(rect, box, feasible)) + 0.1 * order)
    return _CORNERS[int(np.argmin(costs))]
