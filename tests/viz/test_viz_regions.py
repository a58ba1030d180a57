"""compute_regions numbers and RegionDisplay drawing (Agg, figures closed, numbers not pixels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.models import build
from advlab.viz import RegionDisplay, compute_regions, draw_boundaries, region_rgba
from advlab.viz.regions import draw_confidence_contours


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def model():
    m = build("softmax", input_shape=(2,), classes=["a", "b", "c"], bounds=((-5, -5), (5, 5)))
    with torch.no_grad():
        m.net.head.weight.copy_(torch.tensor([[2.0, 0.0], [-1.0, 1.5], [-1.0, -1.5]]))
        m.net.head.bias.copy_(torch.tensor([0.0, 0.3, -0.2]))
    return m


def test_labels_and_probabilities_are_the_models_at_every_grid_point(model):
    data = compute_regions(model, (-3, 4), (-2, 2), resolution=37)
    assert data.xx.shape == data.yy.shape == data.labels.shape == (37, 37)
    assert data.probabilities.shape == (37, 37, 3)
    pts = torch.tensor(np.stack([data.xx.ravel(), data.yy.ravel()], 1), dtype=torch.float32)
    np.testing.assert_array_equal(data.labels.ravel(), model.predict(pts).numpy())
    np.testing.assert_allclose(data.probabilities.reshape(-1, 3), model.predict_proba(pts).numpy(), atol=1e-6)
    assert data.class_names == ("a", "b", "c")
    assert data.extent == (-3.0, 4.0, -2.0, 2.0)
    np.testing.assert_allclose(data.confidence, data.probabilities.max(-1))


def test_a_plain_function_works_and_batches_do_not_change_the_answer(model):
    fn = lambda pts: torch.softmax(model.net(pts), 1)  # noqa: E731
    whole = compute_regions(fn, (-1, 1), (-1, 1), resolution=20)
    batched = compute_regions(fn, (-1, 1), (-1, 1), resolution=20, batch_size=7, class_names=["x", "y", "z"])
    np.testing.assert_allclose(whole.probabilities, batched.probabilities, atol=1e-7)
    assert whole.class_names == ("0", "1", "2") and batched.class_names == ("x", "y", "z")


@pytest.mark.parametrize(("xlim", "ylim"), [((1, 1), (0, 1)), ((2, 1), (0, 1)), ((0, 1), (0, float("inf"))), ((0, float("nan")), (0, 1))])
def test_bad_limits_raise(model, xlim, ylim):
    with pytest.raises(ValueError, match="lim"):
        compute_regions(model, xlim, ylim, resolution=5)


def test_bad_resolution_and_non_models_raise(model):
    with pytest.raises(ValueError, match="resolution"):
        compute_regions(model, (0, 1), (0, 1), resolution=1)
    with pytest.raises(TypeError, match="compute_regions"):
        compute_regions(42, (0, 1), (0, 1))


def test_display_draws_every_layer_into_a_given_axes(model):
    data = compute_regions(model, (-3, 3), (-3, 3), resolution=60)
    fig, ax = plt.subplots()
    pts = np.array([[1.0, 0.0], [-1.0, 1.0], [-1.0, -1.0]])
    disp = RegionDisplay(data).plot(ax, points=pts, point_labels=np.array([0, 1, 1]), circled=np.array([False, False, True]),
                                    markers=[(2.5, 2.5, "far"), (-2.5, -2.5, "far too")], contours=(0.9, 0.99), fade=0.4,
                                    title="t")  # fmt: skip
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(ax.images) == 1 and len(ax.collections) >= 3  # image, boundaries/contours, points, circles
    assert [t.get_text() for t in ax.texts if t.get_text().startswith("far")] == ["far", "far too"]
    # labels lean to the middle: the top-right star's label sits left of and below it
    far = [t for t in ax.texts if t.get_text() == "far"][0]
    assert far.get_horizontalalignment() == "right" and far.get_verticalalignment() == "top"
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_title() == "t"
    assert ax.get_legend() is not None


def test_fade_lightens_the_regions(model):
    data = compute_regions(model, (-3, 3), (-3, 3), resolution=20)
    plain = RegionDisplay(data).plot(legend=False).ax_.images[0].get_array()
    faded = RegionDisplay(data).plot(legend=False, fade=0.5).ax_.images[0].get_array()
    np.testing.assert_allclose(1 - faded[..., :3], 0.5 * (1 - plain[..., :3]), atol=1e-9)


def test_confidence_kind_has_a_colorbar_and_bad_options_raise(model):
    data = compute_regions(model, (-3, 3), (-3, 3), resolution=20)
    disp = RegionDisplay(data).plot(kind="confidence")
    assert len(disp.figure_.axes) == 2  # the map and its colour bar
    with pytest.raises(ValueError, match="kind"):
        RegionDisplay(data).plot(kind="pie")
    with pytest.raises(ValueError, match="fade"):
        RegionDisplay(data).plot(fade=1.0)
    with pytest.raises(ValueError, match="contours"):
        draw_confidence_contours(disp.ax_, data, (0.5, 1.0))


def test_boundaries_follow_the_ties(model):
    data = compute_regions(model, (-3, 3), (-3, 3), resolution=80)
    _, ax = plt.subplots()
    draw_boundaries(ax, data.xx, data.yy, data.probabilities)
    verts = np.concatenate([p.vertices for c in ax.collections for p in c.get_paths()])
    probs = model.predict_proba(torch.tensor(verts, dtype=torch.float32)).numpy()
    top2 = np.sort(probs, axis=1)[:, -2:]
    np.testing.assert_allclose(top2[:, 0], top2[:, 1], atol=0.05)  # on a boundary the top two tie


def test_region_rgba_greys_out_infeasible_points():
    labels = np.array([[0, 1], [2, -1]])
    rgba = region_rgba(labels, np.array([[1.0, 0.5], [0.34, 1.0]]), num_classes=3)
    assert rgba.shape == (2, 2, 4)
    np.testing.assert_allclose(rgba[1, 1], (0.55, 0.55, 0.55, 1.0))
    # surer → stronger colour (farther from white)
    assert (1 - rgba[0, 0, :3]).sum() > (1 - region_rgba(labels, np.full((2, 2), 0.4), num_classes=3)[0, 0, :3]).sum()
