"""Church-window grids: shapes, centring, one scale for every window, directions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.models import build
from advlab.viz import ChurchDisplay, compute_church_windows

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = build("mlp", input_shape=SHAPE, classes=3, widths=[16]).eval()
    x = 0.3 + 0.4 * torch.rand(2, *SHAPE, generator=torch.Generator().manual_seed(0))
    data = compute_church_windows(model, x, torch.tensor([0, 1]), attack="pgd", eps=0.2, resolution=9, radius=0.15)
    return model, x, data


def test_shapes_and_shared_extent(setup):
    _, x, data = setup
    assert data.labels.shape == (2, 3, 9, 9) and data.probabilities.shape == (2, 3, 9, 9, 3)
    assert data.feasible.shape == (2, 3, 9, 9) and data.directions.shape == (2, 3, 2, 16)
    assert data.extent == ((-0.15, 0.15), (-0.15, 0.15)) and data.kinds == ("adversarial", "random", "targeted")
    np.testing.assert_array_equal(data.images, x.numpy())


def test_windows_are_centred_on_the_image(setup):
    model, x, data = setup
    # odd resolution: the centre pixel sits exactly on the image
    expected = model.predict_proba(x).numpy()
    for k in range(3):
        np.testing.assert_allclose(data.probabilities[:, k, 4, 4], expected, rtol=1e-5, atol=1e-6)
    assert (data.centre_labels == data.predictions[:, None]).all()
    # the image is interior and the window small: everything is inside H
    assert data.feasible.all()


def test_directions_are_orthonormal_and_the_adversarial_lies_on_the_axis(setup):
    model, x, data = setup
    gram = np.einsum("nkid,nkjd->nkij", data.directions, data.directions)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(2), gram.shape), atol=1e-9)
    assert np.isnan(data.step[:, 1]).all() and (data.step[:, [0, 2]] > 0).all()
    assert (data.step[:, 0] <= 0.2 * 4 + 1e-6).all()  # PGD L∞ ε = 0.2 in 16 dims: L2 ≤ 0.8
    assert (data.targets != data.predictions).all()


def test_default_radius_gradient_source_and_errors(setup):
    model, x, _ = setup
    data = compute_church_windows(model, x[:1], attack="gradient", kinds=("adversarial",), resolution=5)
    assert data.radius == pytest.approx(2 * 0.05 * 4) and data.source == "gradient"
    with pytest.raises(ValueError, match="kinds"):
        compute_church_windows(model, x, kinds=("diagonal",), eps=0.1)
    with pytest.raises(ValueError, match="bounds"):
        compute_church_windows(model, x + 5, eps=0.1)
    with pytest.raises(ValueError, match="resolution"):
        compute_church_windows(model, x, eps=0.1, resolution=2)


def test_display_has_a_column_per_kind_plus_the_image(setup):
    _, _, data = setup
    for outside in ("grey", "faded"):
        disp = ChurchDisplay(data).plot(outside=outside)
        assert disp.axes_.shape == (2, 4)
        plt.close(disp.figure_)
    assert ChurchDisplay(data).rgba(0, 0).shape == (9, 9, 4)
    with pytest.raises(ValueError, match="outside"):
        ChurchDisplay(data).rgba(0, 0, outside="pink")
