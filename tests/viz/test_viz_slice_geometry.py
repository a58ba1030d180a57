"""Exact slice geometry: polygon and rectangle against scipy's LP, frame, rotation, zoom, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from advlab.viz.slice_geometry import feasible_mask, pixel_centres, slice_geometry, zoom_window


def _triple(rng: np.random.Generator, d: int, saturated: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c = rng.random((3, d))
    if saturated:  # image-like: many coordinates exactly on the box faces
        a[rng.random(d) < 0.5] = 0.0
        b[rng.random(d) < 0.3] = 1.0
        c[: d // 4] = 0.0
    return a, b, c


def _lp_extent(origin: np.ndarray, basis: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(s_min, s_max, t_min, t_max) of {(s, t): lo ≤ origin + s·e₁ + t·e₂ ≤ hi} by four HiGHS LPs."""
    a_ub = np.concatenate([basis.T, -basis.T])
    b_ub = np.concatenate([hi - origin, origin - lo])
    out = []
    for objective, sign in (([1, 0], 1), ([-1, 0], -1), ([0, 1], 1), ([0, -1], -1)):
        res = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * 2, method="highs")
        assert res.status == 0
        out.append(sign * res.fun)
    return np.array(out)


@pytest.mark.parametrize("d", [3, 7, 50, 784])
@pytest.mark.parametrize("saturated", [False, True])
@pytest.mark.parametrize("rotated", [False, True])
def test_extent_matches_linear_programs(d: int, saturated: bool, rotated: bool) -> None:
    rng = np.random.default_rng(d * 10 + saturated + 2 * rotated)
    for _ in range(3):
        a, b, c = _triple(rng, d, saturated)
        lo, hi = np.zeros(d), np.ones(d)
        side = (0.4 * (b - a) + 1.3 * (c - a)) if rotated else None
        g = slice_geometry(a, b, c, lo, hi, side)
        ours = np.array([g.extent[0][0], g.extent[0][1], g.extent[1][0], g.extent[1][1]])
        np.testing.assert_allclose(ours, _lp_extent(a, g.basis, lo, hi), atol=1e-6, rtol=0)
        # Every polygon vertex is a point of H, and the anchors lie in the polygon's bounding box.
        x = a + g.polygon @ g.basis
        assert ((x >= lo - 1e-9) & (x <= hi + 1e-9)).all()
        assert (g.anchors[:, 0] >= g.extent[0][0] - 1e-9).all() and (g.anchors[:, 1] <= g.extent[1][1] + 1e-9).all()


def test_per_feature_box() -> None:
    rng = np.random.default_rng(3)
    lo, hi = np.array([0.0, -2.0, 1.0, -1.0, 5.0]), np.array([1.0, 2.0, 4.0, 0.0, 5.5])
    a, b, c = lo + (hi - lo) * rng.random((3, 5))
    g = slice_geometry(a, b, c, lo, hi)
    ours = np.array([v for pair in g.extent for v in pair])
    np.testing.assert_allclose(ours, _lp_extent(a, g.basis, lo, hi), atol=1e-6, rtol=0)


def test_frame_anchors_and_rotation() -> None:
    rng = np.random.default_rng(0)
    a, b, c = rng.random((3, 20))
    g = slice_geometry(a, b, c, np.zeros(20), np.ones(20))
    np.testing.assert_allclose(g.basis @ g.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(a + g.anchors @ g.basis, np.stack([a, b, c]), atol=1e-12)
    np.testing.assert_allclose(g.anchors[1], [np.linalg.norm(b - a), 0.0], atol=1e-12)
    assert g.anchors[2, 1] > 0  # c lies on the positive t side
    side = c - b
    r = slice_geometry(a, b, c, np.zeros(20), np.ones(20), side)
    np.testing.assert_allclose(r.basis[0], side / np.linalg.norm(side), atol=1e-12)
    np.testing.assert_allclose(a + r.anchors @ r.basis, np.stack([a, b, c]), atol=1e-12)
    np.testing.assert_allclose(r.anchors[2, 1], r.anchors[1, 1], atol=1e-12)  # b and c on one horizontal line
    # Same plane, same polygon area whatever the rotation.
    def area(p: np.ndarray) -> float:
        return 0.5 * abs(float(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1))))

    assert area(g.polygon) == pytest.approx(area(r.polygon), rel=1e-10)


def test_feasible_mask_equals_coordinatewise_check() -> None:
    rng = np.random.default_rng(1)
    a, b, c = _triple(rng, 64, saturated=True)
    g = slice_geometry(a, b, c, np.zeros(64), np.ones(64), side=c - a)
    s, t = pixel_centres(g.extent, 97)
    mask = feasible_mask(g, s, t)
    ss, tt = np.meshgrid(s, t)
    x = a + ss[..., None] * g.basis[0] + tt[..., None] * g.basis[1]
    margin = np.minimum(x, 1 - x).min(axis=-1)
    check = margin >= 0
    clear = np.abs(margin) > 1e-7  # pixel centres not within rounding of a face
    assert 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(mask[clear], check[clear])


def test_zoom_window() -> None:
    rng = np.random.default_rng(2)
    a, b, c = rng.random((3, 10))
    g = slice_geometry(a, b, c, np.zeros(10), np.ones(10))
    (s0, s1), (t0, t1) = g.extent
    ext, centre = zoom_window(g, zoom=4.0)
    mid = (g.anchors[0] + g.anchors[1]) / 2
    np.testing.assert_allclose(centre, mid)
    assert ext[0][1] - ext[0][0] == pytest.approx((s1 - s0) / 4)
    assert ext[1][1] - ext[1][0] == pytest.approx((t1 - t0) / 4)
    assert (ext[0][0] + ext[0][1]) / 2 == pytest.approx(mid[0])
    ext, centre = zoom_window(g, half_width=(0.1, 0.2), center="c")
    np.testing.assert_allclose(centre, g.anchors[2])
    assert ext[1][1] - ext[1][0] == pytest.approx(0.4)
    assert zoom_window(g) == (g.extent, None)
    ext, centre = zoom_window(g, half_width=0.5, center=(0.3, 0.1))
    assert ext == ((-0.2, 0.8), (-0.4, 0.6))
    for kwargs in ({"zoom": 0.0}, {"zoom": float("nan")}, {"zoom": 2, "half_width": 1}, {"half_width": -1},
                   {"zoom": 2, "center": "z"}, {"center": "a"}, {"zoom": 2, "center": (1, 2, 3)}):
        with pytest.raises(ValueError):
            zoom_window(g, **kwargs)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda a, b, c: (a, a.copy(), c), "coincide"),
        (lambda a, b, c: (a, b, a + 2.0 * (b - a) * 0.3), "collinear"),
        (lambda a, b, c: (a, b, np.where(np.arange(a.size) == 0, 1.5, c)), "outside"),
        (lambda a, b, c: (a, b, np.where(np.arange(a.size) == 0, np.nan, c)), "NaN"),
        (lambda a, b, c: (a, b[:-1], c), "values"),
    ],
)
def test_degenerate_inputs_raise(change, match: str) -> None:
    rng = np.random.default_rng(4)
    a, b, c = 0.25 + 0.5 * rng.random((3, 6))
    with pytest.raises(ValueError, match=match):
        slice_geometry(*change(a, b, c), np.zeros(6), np.ones(6))


def test_bad_side_raises() -> None:
    rng = np.random.default_rng(5)
    a, b, c = rng.random((3, 6))
    box = (np.zeros(6), np.ones(6))
    with pytest.raises(ValueError, match="plane"):
        slice_geometry(a, b, c, *box, side=np.eye(6)[0] + np.eye(6)[1])
    with pytest.raises(ValueError, match="zero"):
        slice_geometry(a, b, c, *box, side=np.zeros(6))
    with pytest.raises(ValueError, match="values"):
        slice_geometry(a, b, c, *box, side=np.ones(5))
