"""The 2-D hidden space display pieces and the image grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.viz.hidden import draw_targets, head_regions, limits_around
from advlab.viz.image_grid import image_grid


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_head_regions_are_the_heads_argmax():
    torch.manual_seed(0)
    head = torch.nn.Linear(2, 4)
    data = head_regions(head, (-3, 3), (-2, 2), ["0", "1", "2", "3"], resolution=25)
    pts = torch.tensor(np.stack([data.xx.ravel(), data.yy.ravel()], 1), dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_array_equal(data.labels.ravel(), head(pts).argmax(1).numpy())
    assert data.feature_names == ("hidden unit 1", "hidden unit 2")
    with pytest.raises(ValueError, match="2 hidden units"):
        head_regions(torch.nn.Linear(3, 4), (-1, 1), (-1, 1), ["a"] * 4)


def test_limits_around_pads_the_bounding_box():
    (x0, x1), (y0, y1) = limits_around(np.array([[0.0, 0.0], [10.0, 4.0]]), pad=0.1)
    assert (x0, x1, y0, y1) == pytest.approx((-1.0, 11.0, -1.0, 5.0))


def test_draw_targets_marks_targets_and_reached_points():
    _, ax = plt.subplots()
    ax.set_xlim(-10, 10)
    ax.set_ylim(-10, 10)
    draw_targets(ax, np.array([[8.0, 8.0], [-8.0, -8.0]]), np.array([[3.0, 3.0], [-2.0, -2.0]]), [0, 1], ["a", "b"])
    assert [t.get_text() for t in ax.texts] == ["a", "b"]
    assert ax.texts[0].get_verticalalignment() == "top"  # the upper target's label points down, inside the axes
    assert len(ax.lines) == 6


def test_image_grid_shapes_titles_and_bad_rows():
    imgs = [torch.rand(1, 8, 8) for _ in range(3)]
    fig = image_grid([imgs, imgs], [["a"] * 3, ["b"] * 3], row_labels=("top", "bottom"))
    axes = fig.axes
    assert len(axes) == 6 and axes[0].get_title() == "a" and axes[3].get_ylabel() == "bottom"
    assert axes[0].images[0].get_clim() == (0.0, 1.0)  # no per-image rescaling
    image_grid([[np.random.rand(3, 4, 4)]])  # colour images are moved to channels-last
    with pytest.raises(ValueError, match="rows"):
        image_grid([imgs, imgs[:2]])
    with pytest.raises(ValueError, match="images"):
        image_grid([[np.zeros((2, 2, 2, 2))]])
