"""Sizing a church window from the exact polygon plane ∩ H.

A window is the square centre + [−r, r]·e₁ + [−r, r]·e₂ in the plane through its centre
spanned by the orthonormal e₁, e₂. The plane meets the box H in a convex polygon K
(``slice_geometry.feasible_polygon``, exact half-plane clipping), so the share of the
window inside H is an exact area ratio, |K ∩ Q_r| / 4r², computed by clipping K to the
square and the shoelace formula.

When the centre lies in H that share never grows with r: for r < r′, K ∩ Q_r′ shrunk by
r/r′ towards the centre stays in K (K is convex and holds the centre) and in Q_r, so
|K ∩ Q_r| ≥ (r/r′)²·|K ∩ Q_r′|. The largest r ≤ r_max whose share is at least a target
is therefore found by bisection (``fit_half_width``), and every r below it qualifies too.
"""

from __future__ import annotations

import numpy as np

from advlab.viz.slice_geometry import _clip, feasible_polygon


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon (V, 2) by the shoelace formula (0 for fewer than 3 vertices)."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def square_share(polygon: np.ndarray, r: float) -> float:
    """Exact share of the square [−r, r]² (plane coordinates) covered by the convex ``polygon``."""
    if r <= 0:
        raise ValueError(f"church windows: a half-width must be positive, got {r!r}")
    poly = polygon
    tol = 1e-12 * r
    for normal in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        poly = _clip(poly, np.asarray(normal), r, tol)
        if len(poly) < 3:
            return 0.0
    return min(1.0, polygon_area(poly) / (4.0 * r * r))


def grid_share(polygon: np.ndarray, r: float, resolution: int) -> float:
    """Share of the resolution² pixel centres of the square [−r, r]² inside the convex, counter-clockwise ``polygon``:
    the share a picture of the window draws inside H."""
    k = (np.arange(resolution) + 0.5) / resolution
    c = r * (2 * k - 1)
    pts = np.stack(np.meshgrid(c, c), axis=-1).reshape(-1, 2)
    p, q = polygon, np.roll(polygon, -1, axis=0)
    edge = q - p  # (V, 2); inside: cross(edge, x − p) ≥ 0 for every edge
    cross = edge[:, 0][None] * (pts[:, 1][:, None] - p[:, 1][None]) - edge[:, 1][None] * (pts[:, 0][:, None] - p[:, 0][None])
    tol = 1e-9 * max(r, 1e-300) * np.linalg.norm(edge, axis=1)[None]
    return float((cross >= -tol).all(axis=1).mean())


def window_polygon(centre: np.ndarray, basis: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The polygon plane ∩ H, in the window's coordinates (s along e₁, t along e₂, 0 at ``centre``).

    ``centre`` is clipped to H first (it lies in H up to rounding: the image, or a point of the segment
    from the image to its adversarial)."""
    centre = np.clip(np.asarray(centre, dtype=np.float64).reshape(-1), lower, upper)
    return feasible_polygon(centre, np.asarray(basis, dtype=np.float64), lower, upper)


def fit_half_width(polygon: np.ndarray, r_max: float, min_inside: float, rtol: float = 1e-4,
                   resolution: int | None = None) -> float:
    """The largest half-width r ≤ ``r_max`` whose window has at least ``min_inside`` of its area in the polygon.

    The polygon must hold the window's centre (0, 0) (then the share falls as r grows; see the module
    docstring); the bisection returns the lower end of its bracket, so the share at the returned r is
    ≥ ``min_inside`` exactly, and r is within ``rtol``·r_max of the largest such half-width. With
    ``resolution``, r then shrinks in steps of 1% until the picture too (its pixel centres, ``grid_share``)
    holds ``min_inside`` inside H: at the exact area's limit the pixel grid can fall just short of it.
    """
    r = _fit_area(polygon, r_max, min_inside, rtol)
    if resolution is not None and min_inside > 0:
        for _ in range(200):
            if grid_share(polygon, r, resolution) >= min_inside:
                break
            r *= 0.99
    return r


def _fit_area(polygon: np.ndarray, r_max: float, min_inside: float, rtol: float) -> float:
    if not np.isfinite(r_max) or r_max <= 0:
        raise ValueError(f"church windows: the largest half-width must be a positive number, got {r_max!r}")
    if not 0.0 <= min_inside < 1.0:
        raise ValueError(f"church windows: min_inside must be in [0, 1), got {min_inside!r}")
    if min_inside == 0.0 or square_share(polygon, r_max) >= min_inside:
        return float(r_max)
    lo, hi = 0.0, float(r_max)
    while hi - lo > rtol * r_max:
        mid = 0.5 * (lo + hi)
        if square_share(polygon, mid) >= min_inside:
            lo = mid
        else:
            hi = mid
    while lo == 0.0 and hi > 1e-12 * r_max:  # the centre lies very near the polygon's edge: look below rtol·r_max
        hi *= 0.5
        if square_share(polygon, hi) >= min_inside:
            lo = hi
    if lo == 0.0:
        raise ValueError("church windows: a window's centre lies on the boundary of H in its plane; no window around it "
                         f"has {min_inside:.0%} of its area in H")
    return lo
