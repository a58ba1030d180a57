"""Tie lines and tie points of a linear softmax (exact) and the numerical least certain point."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from advlab.viz.uncertainty import Ties, draw_ties, least_certain_point, linear_ties, softmax_np

W = np.array([[-2.7, -1.2], [0.1, -0.9], [2.7, 2.1]])
B = np.array([11.1, 3.2, -14.3])
XLIM, YLIM = (0.0, 8.0), (-0.5, 5.0)


def proba(points: np.ndarray) -> np.ndarray:
    return softmax_np(np.asarray(points) @ W.T + B)


def test_triple_point_solves_the_2x2_system_and_has_p_one_third():
    ties = linear_ties(W, B, XLIM, YLIM)
    (tp,) = ties.points
    assert tp.classes == (0, 1, 2)
    z = W @ tp.point + B
    np.testing.assert_allclose(z, z[0], atol=1e-9)
    np.testing.assert_allclose(tp.probabilities, [1 / 3] * 3, atol=1e-12)


def test_segments_are_where_their_two_classes_tie_on_top_and_stay_in_the_window():
    ties = linear_ties(W, B, XLIM, YLIM)
    assert sorted(s.classes for s in ties.segments) == [(0, 1), (0, 2), (1, 2)]
    for seg in ties.segments:
        i, j = seg.classes
        for t in np.linspace(0.01, 0.99, 9):
            p = seg.start + t * (seg.end - seg.start)
            assert XLIM[0] - 1e-9 <= p[0] <= XLIM[1] + 1e-9 and YLIM[0] - 1e-9 <= p[1] <= YLIM[1] + 1e-9
            probs = proba(p[None])[0]
            assert probs[i] == pytest.approx(probs[j], abs=1e-9)
            assert set(np.argsort(-probs)[:2]) == {i, j}


def test_two_classes_give_one_full_line_and_no_tie_point():
    ties = linear_ties(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2), (-1, 1), (-2, 2))
    (seg,) = ties.segments
    assert ties.points == []
    np.testing.assert_allclose(sorted([seg.start[1], seg.end[1]]), [-2, 2])
    np.testing.assert_allclose([seg.start[0], seg.end[0]], [0, 0], atol=1e-12)


def test_a_triple_point_outside_the_window_is_left_out():
    assert linear_ties(W, B, (4.0, 8.0), (0.0, 3.0)).points == []


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="weight"):
        linear_ties(np.ones((3, 3)), np.ones(3), XLIM, YLIM)
    with pytest.raises(ValueError, match="weight"):
        linear_ties(np.ones((3, 2)), np.ones(2), XLIM, YLIM)


def test_least_certain_point_finds_the_exact_triple_point():
    exact = linear_ties(W, B, XLIM, YLIM).points[0]
    found = least_certain_point(proba, XLIM, YLIM, resolution=60)
    np.testing.assert_allclose(found.point, exact.point, atol=1e-3)
    assert found.classes == (0, 1, 2)
    np.testing.assert_allclose(found.probabilities, [1 / 3] * 3, atol=1e-5)


def test_draw_ties_labels_lines_and_points():
    fig, ax = plt.subplots()
    ax.set_xlim(*XLIM)
    ax.set_ylim(*YLIM)
    draw_ties(ax, linear_ties(W, B, XLIM, YLIM), ["a", "b", "c"], proba)
    texts = [t.get_text() for t in ax.texts]
    assert sum(t.startswith("P(") for t in texts) == 3
    assert any(t.startswith("triple point") and "0.333 / 0.333 / 0.333" in t for t in texts)
    draw_ties(ax, Ties(points=[least_certain_point(lambda p: proba(p)[:, :2] / proba(p)[:, :2].sum(1, keepdims=True), XLIM, YLIM, resolution=30)]), ["a", "b", "c"])
    assert any(t.get_text().startswith("least certain point") for t in ax.texts)
    plt.close(fig)
