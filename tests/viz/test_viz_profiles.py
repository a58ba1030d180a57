"""Class-probability profiles along a → b → c → a."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.viz import ProfileDisplay, compute_profiles
from advlab.viz.colors import class_color

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def setup(seeded_mlp):
    model = seeded_mlp(SHAPE, classes=4, widths=[16])
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.rand(SHAPE, generator=g) for _ in range(3))
    return model, a, b, c


def test_profiles_at_the_anchors_equal_the_models_probabilities(setup):
    model, a, b, c = setup
    data = compute_profiles(model, a, b, c, points=50)
    assert data.probabilities.shape == (150, 4) and data.positions.shape == (150,)
    expected = model.predict_proba(torch.stack([a, b, c])).numpy()
    for k in range(3):
        np.testing.assert_allclose(data.at_anchor(k), expected[k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(data.at_anchor(3), expected[0], rtol=1e-5, atol=1e-6)  # closed path ends at a
    np.testing.assert_allclose(data.probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_positions_are_l2_arc_lengths(setup):
    model, a, b, c = setup
    data = compute_profiles(model, a, b, c, points=11)
    ab, bc, ca = float((b - a).norm()), float((c - b).norm()), float((a - c).norm())
    np.testing.assert_allclose(data.anchor_positions, [0, ab, ab + bc, ab + bc + ca], rtol=1e-6)
    assert data.anchor_names == ("a", "b", "c", "a")
    assert np.all(np.diff(data.positions) >= 0) and set(data.segment.tolist()) == {0, 1, 2}
    # the midpoint of a → b is evaluated exactly
    mid = model.predict_proba(((a + b) / 2)[None])[0].numpy()
    np.testing.assert_allclose(data.probabilities[5], mid, rtol=1e-5, atol=1e-6)


def test_open_segment_and_errors(setup):
    model, a, b, _ = setup
    data = compute_profiles(model, a, b, points=5)
    assert data.probabilities.shape == (5, 4) and data.anchor_names == ("a", "b")
    with pytest.raises(ValueError, match="points"):
        compute_profiles(model, a, b, points=1)
    with pytest.raises(ValueError, match="bounds"):
        compute_profiles(model, a, b + 2)
    with pytest.raises(TypeError):
        ProfileDisplay("nope")


def test_display_draws_one_line_per_class_in_the_class_colours(setup):
    model, a, b, c = setup
    disp = ProfileDisplay(compute_profiles(model, a, b, c, points=20)).plot(title="t")
    lines = [ln for ln in disp.ax_.get_lines() if len(ln.get_xdata()) == 60]
    assert len(lines) == 4
    for k, ln in enumerate(lines):
        assert matplotlib.colors.to_rgb(ln.get_color()) == pytest.approx(class_color(k))
    assert [t.get_text() for t in disp.ax_.texts] == ["a", "b", "c", "a"]
    plt.close(disp.figure_)
