"""Exact geometry of a 2-D slice of the input box H through three points.

The plane through a, b, c is x = a + s·e₁ + t·e₂ with an orthonormal in-plane basis
(e₁, e₂): e₁ along ``side`` (default b − a), e₂ its in-plane orthogonal, oriented like
the Gram–Schmidt pair (u, w) of (b − a, c − a). Because the basis is orthonormal, plane
coordinates are input-space L2 distances.

plane ∩ H = {(s, t): lo ≤ a + s·e₁ + t·e₂ ≤ hi} is a convex polygon; it is computed by
exact half-plane clipping (vertices are intersections of constraint lines, no solver
tolerance), and the slice rectangle is its bounding box in the (e₁, e₂) frame: the
smallest rectangle with one side parallel to ``side`` that contains the polygon.
Everything here is NumPy float64 and model-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Extent = tuple[tuple[float, float], tuple[float, float]]

# Relative tolerances (of the box diagonal) for degenerate inputs and for boundary pixels.
_DEGENERATE_RTOL = 1e-9
_IN_PLANE_RTOL = 1e-6
_BOUNDARY_RTOL = 1e-9


@dataclass(frozen=True)
class SliceGeometry:
    """Plane frame, exact feasible polygon and its bounding rectangle (all flattened, float64)."""

    origin: np.ndarray  # (d,) the point a
    basis: np.ndarray  # (2, d) orthonormal rows e₁ (along side), e₂
    lower: np.ndarray  # (d,) box H
    upper: np.ndarray  # (d,)
    angle: float  # radians from u = (b − a)/‖b − a‖ to e₁, measured towards w
    anchors: np.ndarray  # (3, 2) plane coordinates of a, b, c
    polygon: np.ndarray  # (V, 2) vertices of plane ∩ H, counter-clockwise
    extent: Extent  # ((s_min, s_max), (t_min, t_max)) of the polygon

    @property
    def diameter(self) -> float:
        """L2 diagonal of the box: the scale used for tolerances."""
        return float(np.linalg.norm(self.upper - self.lower))


def _check_point(x: np.ndarray, name: str, d: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.shape != (d,):
        raise ValueError(f"slice geometry: {name} must have {d} values, got {x.size}")
    if not np.isfinite(x).all():
        raise ValueError(f"slice geometry: {name} contains NaN or infinite values")
    return x


def plane_frame(a: np.ndarray, b: np.ndarray, c: np.ndarray, side: np.ndarray | None = None, *, scale: float = 1.0) -> tuple[np.ndarray, float]:
    """Orthonormal basis (2, d) of the plane through a, b, c with e₁ along ``side``, and its angle from u.

    ``scale`` (the box diagonal) sets the tolerance for a = b and for collinear points.
    """
    ab, ac = b - a, c - a
    n_ab = float(np.linalg.norm(ab))
    if n_ab <= _DEGENERATE_RTOL * scale:
        raise ValueError(f"slice geometry: a and b coincide (‖b − a‖ = {n_ab:.3g}); the plane needs two distinct directions")
    u = ab / n_ab
    w = ac - (ac @ u) * u
    w -= (w @ u) * u  # second Gram–Schmidt pass: orthogonal to machine precision
    n_w = float(np.linalg.norm(w))
    n_ac = float(np.linalg.norm(ac))
    if n_w <= _DEGENERATE_RTOL * scale or n_w <= 1e-7 * n_ac:
        raise ValueError(
            "slice geometry: a, b and c are collinear (c − a has no component orthogonal to b − a); "
            "choose a third point off the line through a and b"
        )
    w = w / n_w
    if side is None:
        return np.stack([u, w]), 0.0
    side = np.asarray(side, dtype=np.float64).reshape(-1)
    if side.shape != u.shape or not np.isfinite(side).all():
        raise ValueError(f"slice geometry: side must be a finite vector of {u.size} values (a direction in the plane), got {side.size} values")
    n_side = float(np.linalg.norm(side))
    if n_side == 0.0:
        raise ValueError("slice geometry: side is the zero vector; it must be a direction in the plane of a, b, c")
    p, q = float(side @ u), float(side @ w)
    off_plane = float(np.linalg.norm(side - p * u - q * w))
    if off_plane > _IN_PLANE_RTOL * n_side:
        raise ValueError(
            f"slice geometry: side must lie in the plane of a, b, c; {off_plane / n_side:.2%} of its length points out of it"
        )
    angle = float(np.arctan2(q, p))
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cos * u + sin * w, -sin * u + cos * w]), angle


def _clip(poly: np.ndarray, normal: np.ndarray, rhs: float, tol: float) -> np.ndarray:
    """Keep the part of convex polygon ``poly`` where normal·p ≤ rhs (Sutherland–Hodgman, one edge)."""
    f = poly @ normal - rhs
    inside = f <= tol
    out: list[np.ndarray] = []
    n = len(poly)
    for k in range(n):
        p, q, fp, fq = poly[k], poly[(k + 1) % n], f[k], f[(k + 1) % n]
        if inside[k]:
            out.append(p)
        if (fp < -tol and fq > tol) or (fp > tol and fq < -tol):
            out.append(p + (fp / (fp - fq)) * (q - p))
    if not out:
        return np.empty((0, 2))
    res = np.array(out)
    # Drop consecutive duplicates left by vertices lying on the clipping line.
    keep = np.linalg.norm(res - np.roll(res, 1, axis=0), axis=1) > tol
    return res[keep] if keep.any() else res[:1]


def feasible_polygon(origin: np.ndarray, basis: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Vertices (V, 2), counter-clockwise, of {(s, t): lower ≤ origin + s·e₁ + t·e₂ ≤ upper}.

    Half-plane clipping, most violated constraint first: only the few binding
    constraints out of the 2d are ever clipped, so the cost is O(d · edges).
    """
    scale = float(np.linalg.norm(upper - lower))
    tol = 1e-12 * scale
    normals = basis.T  # (d, 2): coordinate i is origin_i + normals[i]·(s, t)
    moving = np.abs(normals).max(axis=1) > 0
    n_all = np.concatenate([normals[moving], -normals[moving]])
    r_all = np.concatenate([(upper - origin)[moving], (origin - lower)[moving]])
    # Any feasible point is within the box diagonal of the origin (a ∈ H).
    big = 1.01 * scale
    poly = np.array([[-big, -big], [big, -big], [big, big], [-big, big]])
    for _ in range(len(n_all) + 1):
        violation = (n_all @ poly.T - r_all[:, None]).max(axis=1)
        worst = int(np.argmax(violation))
        if violation[worst] <= tol:
            break
        poly = _clip(poly, n_all[worst], float(r_all[worst]), tol)
        if len(poly) < 3:
            raise ValueError("slice geometry: the plane meets the box H in less than a polygon (are a, b, c inside H?)")
    return poly


def slice_geometry(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray, side: np.ndarray | None = None
) -> SliceGeometry:
    """Frame, polygon and bounding rectangle of the slice of box [lower, upper] through a, b, c."""
    lower = np.asarray(lower, dtype=np.float64).reshape(-1)
    upper = np.asarray(upper, dtype=np.float64).reshape(-1)
    d = lower.size
    if upper.shape != lower.shape or not (upper > lower).all():
        raise ValueError("slice geometry: the box needs lower < upper in every coordinate")
    a, b, c = (_check_point(x, name, d) for x, name in ((a, "a"), (b, "b"), (c, "c")))
    scale = float(np.linalg.norm(upper - lower))
    for x, name in ((a, "a"), (b, "b"), (c, "c")):
        excess = float(np.maximum(lower - x, x - upper).max())
        if excess > 1e-6:
            raise ValueError(f"slice geometry: {name} lies outside the box H by up to {excess:.3g}; slices go through points of H")
    basis, angle = plane_frame(a, b, c, side, scale=scale)
    polygon = feasible_polygon(a, basis, lower, upper)
    extent = ((float(polygon[:, 0].min()), float(polygon[:, 0].max())), (float(polygon[:, 1].min()), float(polygon[:, 1].max())))
    anchors = np.stack([b - a, c - a]) @ basis.T
    anchors = np.concatenate([np.zeros((1, 2)), anchors])
    return SliceGeometry(a, basis, lower, upper, angle, anchors, polygon, extent)


def pixel_centres(extent: Extent, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (s of the columns, t of the rows) of a resolution × resolution grid over ``extent``."""
    (s0, s1), (t0, t1) = extent
    k = (np.arange(resolution) + 0.5) / resolution
    return s0 + k * (s1 - s0), t0 + k * (t1 - t0)


def feasible_mask(geometry: SliceGeometry, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(len(t), len(s)) bool: is origin + s_j·e₁ + t_i·e₂ inside H? (coordinate-wise, row by row).

    For each row t the constraints lo ≤ x ≤ hi are linear in s, so the feasible s form one
    interval; intersecting the d intervals costs O(rows · d), not O(pixels · d).
    """
    o, (e1, e2) = geometry.origin, geometry.basis
    tol = _BOUNDARY_RTOL * geometry.diameter
    rest_lo = geometry.lower[None, :] - o[None, :] - t[:, None] * e2[None, :]  # need e1·s ≥ rest_lo
    rest_hi = geometry.upper[None, :] - o[None, :] - t[:, None] * e2[None, :]  # need e1·s ≤ rest_hi
    pos, neg, flat = e1 > 0, e1 < 0, e1 == 0
    s_min = np.full(len(t), -np.inf)
    s_max = np.full(len(t), np.inf)
    if pos.any():
        s_min = np.maximum(s_min, (rest_lo[:, pos] / e1[pos]).max(axis=1))
        s_max = np.minimum(s_max, (rest_hi[:, pos] / e1[pos]).min(axis=1))
    if neg.any():
        s_min = np.maximum(s_min, (rest_hi[:, neg] / e1[neg]).max(axis=1))
        s_max = np.minimum(s_max, (rest_lo[:, neg] / e1[neg]).min(axis=1))
    if flat.any():
        row_ok = ((rest_lo[:, flat] <= tol) & (rest_hi[:, flat] >= -tol)).all(axis=1)
        s_max = np.where(row_ok, s_max, -np.inf)
    return (s[None, :] >= s_min[:, None] - tol) & (s[None, :] <= s_max[:, None] + tol)


def zoom_window(
    geometry: SliceGeometry,
    zoom: float | None = None,
    half_width: float | tuple[float, float] | None = None,
    center: str | tuple[float, float] | None = None,
) -> tuple[Extent, np.ndarray | None]:
    """The picture's rectangle and its centre (``None`` for the global view).

    ``zoom=f`` shrinks the global rectangle by f (f > 1 magnifies) around ``center``;
    ``half_width=h`` or ``(h_s, h_t)`` gives the half-sizes directly, in input-space L2
    units. ``center`` is ``"ab"`` (midpoint of a and b, the default), ``"a"``, ``"b"``,
    ``"c"`` or plane coordinates ``(s, t)``. The window is not clipped to the global
    rectangle: whatever falls outside H is drawn grey.
    """
    if zoom is None and half_width is None:
        if center is not None:
            raise ValueError("slice zoom: zoom_center needs zoom= or half_width= (the global slice has no centre to choose)")
        return geometry.extent, None
    if zoom is not None and half_width is not None:
        raise ValueError("slice zoom: give zoom= (a factor) or half_width= (a size), not both")
    named = {"a": geometry.anchors[0], "b": geometry.anchors[1], "c": geometry.anchors[2], "ab": geometry.anchors[:2].mean(axis=0)}
    if center is None or isinstance(center, str):
        key = "ab" if center is None else center
        if key not in named:
            raise ValueError(f"slice zoom: zoom_center must be 'a', 'b', 'c', 'ab' or (s, t), got {center!r}")
        mid = np.asarray(named[key], dtype=np.float64)
    else:
        mid = np.asarray(center, dtype=np.float64).reshape(-1)
        if mid.shape != (2,) or not np.isfinite(mid).all():
            raise ValueError(f"slice zoom: zoom_center as plane coordinates must be two finite numbers (s, t), got {center!r}")
    if zoom is not None:
        if not np.isfinite(zoom) or zoom <= 0:
            raise ValueError(f"slice zoom: zoom must be a positive factor (> 1 magnifies), got {zoom!r}")
        (s0, s1), (t0, t1) = geometry.extent
        hs, ht = (s1 - s0) / (2 * zoom), (t1 - t0) / (2 * zoom)
    else:
        hw = np.asarray(half_width, dtype=np.float64).reshape(-1)
        hw = np.repeat(hw, 2) if hw.size == 1 else hw
        if hw.shape != (2,) or not np.isfinite(hw).all() or (hw <= 0).any():
            raise ValueError(f"slice zoom: half_width must be a positive number or (h_s, h_t), got {half_width!r}")
        hs, ht = float(hw[0]), float(hw[1])
    return ((float(mid[0] - hs), float(mid[0] + hs)), (float(mid[1] - ht), float(mid[1] + ht))), mid
