"""SliceDisplay smoke tests: the picture's numbers (extent, anchors, legend), thumbnails, PNG/SVG saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.offsetbox import AnnotationBbox  # noqa: E402

from advlab.models import Model, build  # noqa: E402
from advlab.viz import SliceDisplay, compute_slice, region_rgba  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image_model() -> tuple[Model, list[torch.Tensor]]:
    torch.manual_seed(0)
    model = build("softmax", input_shape=(1, 6, 6), classes=3)
    with torch.no_grad():
        model.net.head.weight.mul_(30)
        model.net.head.bias.copy_(-0.5 * model.net.head.weight.sum(1))
    g = torch.Generator().manual_seed(1)
    return model, [torch.rand(1, 6, 6, generator=g) for _ in range(3)]


def test_plot_draws_regions_anchors_thumbnails(tmp_path: Path) -> None:
    model, (a, b, c) = _image_model()
    data = compute_slice(model, a, b, c, resolution=48)
    disp = SliceDisplay(data).plot(title="slice", boundaries=True)
    assert disp.figure_ is disp.ax_.figure
    (image,) = disp.ax_.images
    np.testing.assert_allclose(image.get_extent(), data.imshow_extent)
    np.testing.assert_allclose(image.get_array(), region_rgba(data.labels, data.confidence, feasible=data.feasible, num_classes=3))
    markers = [line for line in disp.ax_.lines if line.get_marker() in ("o", "*", "s")]
    np.testing.assert_allclose([m.get_xydata()[0] for m in markers], data.anchors)
    assert sum(isinstance(art, AnnotationBbox) for art in disp.ax_.artists) == 3
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels[:3] == list(model.classes) and labels[-1] == "outside H"
    assert disp.ax_.get_title() == "slice"
    disp.figure_.savefig(tmp_path / "slice.png")
    disp.figure_.savefig(tmp_path / "slice.svg")
    assert (tmp_path / "slice.png").stat().st_size > 0
    assert (tmp_path / "slice.svg").read_text().lstrip().startswith("<?xml")


def test_from_model_zoom_and_options() -> None:
    model, (a, b, c) = _image_model()
    _, ax = plt.subplots()
    disp = SliceDisplay.from_model(model, a, b, c, ax=ax, resolution=32, zoom=50.0, zoom_center="a", anchor_names=("x", "adv", "r"),
                                   legend=False, scale_bar=False)
    assert disp.ax_ is ax and disp.data.magnification == pytest.approx(50.0)
    texts = [t.get_text() for t in ax.texts]
    assert "x" in texts and "r" not in texts  # c lies outside the magnified window
    assert ax.get_legend() is None
    plain = SliceDisplay(disp.data).plot(anchors=False, thumbnails=False)
    assert not any(isinstance(art, AnnotationBbox) for art in plain.ax_.artists) and not plain.ax_.texts


def test_tabular_slice_has_no_thumbnails() -> None:
    torch.manual_seed(0)
    model = build("mlp", input_shape=(4,), classes=3, widths=[8], bounds=([0, 0, 0, 0], [1, 2, 3, 4]))
    a, b, c = torch.tensor([0.5, 1.0, 1.0, 2.0]), torch.tensor([0.1, 1.5, 2.0, 1.0]), torch.tensor([0.9, 0.2, 0.5, 3.0])
    disp = SliceDisplay(compute_slice(model, a, b, c, resolution=24)).plot()
    assert not any(isinstance(art, AnnotationBbox) for art in disp.ax_.artists)
    assert {"a", "b", "c"} <= {t.get_text() for t in disp.ax_.texts}


def test_bad_arguments_raise() -> None:
    model, (a, b, c) = _image_model()
    data = compute_slice(model, a, b, c, resolution=16)
    with pytest.raises(ValueError, match="3 names"):
        SliceDisplay(data).plot(anchor_names=("a", "b"))
    with pytest.raises(ValueError, match="images"):
        SliceDisplay(data).plot(images=(a, b))
    with pytest.raises(TypeError):
        SliceDisplay("not data")  # type: ignore[arg-type]


def _extents(disp: SliceDisplay) -> tuple[list, Any, Any]:
    """After drawing: window extents of the thumbnails, the scale bar and the title (display pixels)."""
    fig = disp.figure_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    thumbs = [art.patch.get_window_extent(renderer) for art in disp.ax_.artists if isinstance(art, AnnotationBbox)]  # frames
    bars = [art for art in disp.ax_.artists if type(art).__name__ == "AnchoredSizeBar"]
    return thumbs, bars[0].get_window_extent(renderer) if bars else None, disp.ax_.title.get_window_extent(renderer)


def _anchor_pixels(disp: SliceDisplay) -> np.ndarray:
    return disp.ax_.transData.transform(disp.data.anchors)


def test_thumbnails_of_coinciding_anchors_fan_out() -> None:
    model, (a, _, c) = _image_model()
    b = (a + 1e-3 * torch.randn(a.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)  # b almost on a
    disp = SliceDisplay(compute_slice(model, a, b, c, resolution=24)).plot(title="close")
    thumbs, bar, _ = _extents(disp)
    assert len(thumbs) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not thumbs[i].overlaps(thumbs[j]), (thumbs[i], thumbs[j])
    offsets = disp.thumbnail_offsets_
    assert not np.allclose(offsets[0], offsets[1])  # a and b sit together: their thumbnails go different ways
    for x, y in _anchor_pixels(disp):  # no thumbnail and no scale bar hides an anchor
        assert not any(t.contains(x, y) for t in thumbs) and not bar.contains(x, y)


def test_scale_bar_leaves_the_corner_that_holds_an_anchor() -> None:
    from advlab.viz.slice_layout import scale_bar_corner

    box, feasible = np.array([0.0, 0.0, 200.0, 150.0]), np.ones((10, 10), dtype=bool)
    assert scale_bar_corner((50, 24), box, np.array([[100.0, 75.0]]), [], feasible) == "lower right"
    assert scale_bar_corner((50, 24), box, np.array([[195.0, 2.0]]), [], feasible) == "lower left"
    corner = scale_bar_corner((50, 24), box, np.array([[195.0, 2.0], [3.0, 3.0]]), [np.array([150, 120, 210, 170])], feasible)
    assert corner == "upper left"
    # in a picture: an image with saturated pixels puts a and b on the lower edge of the slice
    torch.manual_seed(0)
    model, (_, _, c) = _image_model()
    a = (torch.rand(1, 6, 6, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    b = (a + 0.4 * (0.5 - a) * (torch.rand(1, 6, 6, generator=torch.Generator().manual_seed(4)) > 0.3)).clamp(0, 1)
    disp = SliceDisplay(compute_slice(model, a, b, c, resolution=24)).plot()
    _, bar, _ = _extents(disp)
    assert not any(bar.contains(x, y) for x, y in _anchor_pixels(disp))


def test_layout_follows_the_box_drawn_after_tight_layout() -> None:
    """The title clears the thumbnails in the box as drawn, also when the layout changes after plot."""
    model, (a, b, c) = _image_model()
    data = compute_slice(model, a, b, c, resolution=24)
    fig, axes = plt.subplots(2, 2, figsize=(7, 7))
    displays = [SliceDisplay(data).plot(ax, title="a title", legend=False) for ax in axes.flat]
    before = [dict(d.thumbnail_offsets_) for d in displays]
    fig.subplots_adjust(left=0.3, right=0.95, hspace=0.1, wspace=0.1)  # much smaller boxes than at plot time
    for disp in displays:
        thumbs, _, title = _extents(disp)
        assert len(thumbs) == 3
        assert all(t.y1 <= title.y0 + 1 or t.x1 <= title.x0 or t.x0 >= title.x1 for t in thumbs)
    assert any(set(map(tuple, d.thumbnail_offsets_.values())) != set(map(tuple, o.values())) for d, o in zip(displays, before))
