"""Church-window grids: shapes, centring, one scale for every window, directions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.viz import ChurchDisplay, compute_church_windows

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def setup(seeded_mlp):
    model = seeded_mlp(SHAPE, classes=3, widths=[16])
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
    # ☆ is adversarial exactly when the model's class at a + step·e₁ differs from the image's
    assert data.fooled.shape == (2, 3) and not data.fooled[:, 1].any()
    stars = x.reshape(2, -1).numpy()[:, None] + data.step[:, [0, 2], None] * data.directions[:, [0, 2], 0]
    classes = model.predict(torch.as_tensor(stars, dtype=torch.float32).reshape(-1, *SHAPE)).numpy().reshape(2, 2)
    np.testing.assert_array_equal(data.fooled[:, [0, 2]], classes != data.predictions[:, None])


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


def _saturated_image() -> torch.Tensor:
    """A 4×4 image like MNIST: half the pixels exactly at 0 or 1, the rest well inside."""
    x = torch.tensor([0.0, 1.0, 0.4, 0.6, 0.0, 0.5, 1.0, 0.3, 0.7, 0.0, 0.0, 0.45, 1.0, 0.55, 0.0, 1.0])
    return x.reshape(1, *SHAPE)


def test_face_windows_stay_inside_h_for_a_saturated_image(setup):
    model, _, _ = setup
    x = _saturated_image()
    at_bound = ((x == 0) | (x == 1)).reshape(-1).numpy()
    face = compute_church_windows(model, x, attack="pgd", eps=0.1, resolution=9, radius=0.1)
    assert face.face and face.feasible.mean() >= 0.95
    assert np.abs(face.directions[..., at_bound]).max() == 0.0  # pixels at a bound never move
    gram = np.einsum("nkid,nkjd->nkij", face.directions, face.directions)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(2), gram.shape), atol=1e-9)
    # the adversarial within the face lies on the e₁ axis: a + step·e₁ keeps the saturated pixels
    adv = x.reshape(-1).numpy() + face.step[0, 0] * face.directions[0, 0, 0]
    np.testing.assert_array_equal(adv[at_bound], x.reshape(-1).numpy()[at_bound])
    # the whole window fits inside H exactly up to inside_radius
    assert (face.inside_radius > 0).all() and np.isfinite(face.inside_radius).all()
    snug = compute_church_windows(model, x, attack="pgd", eps=0.1, resolution=9, radius=float(face.inside_radius.min()))
    assert snug.feasible.all()


def test_face_false_reproduces_the_unrestricted_windows(setup):
    model, _, _ = setup
    x = _saturated_image()
    free = compute_church_windows(model, x, attack="pgd", eps=0.1, resolution=9, radius=0.1, face=False)
    assert not free.face and free.feasible.mean() < 0.05  # any unrestricted direction leaves H on one side of a
    assert (free.inside_radius == 0).all()
    # on an interior image the face is all of H: both settings give the same adversarial direction; only the
    # random directions differ (room-weighted within the face)
    _, inner, data = setup
    again = compute_church_windows(model, inner, torch.tensor([0, 1]), attack="pgd", eps=0.2, resolution=9, radius=0.15, face=False)
    np.testing.assert_allclose(again.directions[:, [0, 2], 0], data.directions[:, [0, 2], 0])
    np.testing.assert_allclose(again.step, data.step)


def test_random_directions_are_room_weighted(setup):
    model, _, _ = setup
    x = _saturated_image()
    flat = x.reshape(-1).numpy().astype(np.float64)
    room = np.minimum(flat, 1 - flat)
    data = compute_church_windows(model, x, kinds=("random",), attack="gradient", resolution=5, radius=0.1, seed=3)
    # e = g ⊙ room / ‖g ⊙ room‖ with g Gaussian: the same g reproduces it exactly
    gen = torch.Generator().manual_seed(3)
    g = torch.randn(16, generator=gen, dtype=torch.float64).numpy() * room
    np.testing.assert_allclose(data.directions[0, 0, 0], g / np.linalg.norm(g), atol=1e-12)


def test_midpoint_windows_hold_the_image_and_the_adversarial(setup):
    model, _, _ = setup
    x = _saturated_image()
    data = compute_church_windows(model, x, attack="pgd", eps=0.3, kinds=("adversarial", "random"), resolution=21, center="midpoint")
    step = float(data.step[0, 0])
    assert data.center == "midpoint" and data.offsets[0, 0] == pytest.approx(step / 2) and data.offsets[0, 1] == 0.0
    assert data.radius == pytest.approx(0.6 * step)  # default: a and ☆ at ±step/2, inside the window
    # the image itself is where the offset says: the model's class there is the image's prediction
    assert data.image_labels[0, 0] == data.predictions[0] and data.image_labels[0, 1] == data.predictions[0]
    # the window's centre pixel column holds the midpoint a + step/2·e₁ (odd resolution: exactly)
    mid = x.reshape(-1).numpy() + step / 2 * data.directions[0, 0, 0]
    expected = model.predict_proba(torch.as_tensor(mid, dtype=torch.float32).reshape(1, *SHAPE)).numpy()[0]
    np.testing.assert_allclose(data.probabilities[0, 0, 10, 10], expected, rtol=1e-5, atol=1e-6)
    # the segment a → ☆ lies in H (both ends do), so the window's axis between them is feasible
    assert data.feasible[0, 0, 10, 3:18].all()
    assert data.crosses_boundary()[0, 0] == bool(data.fooled[0, 0] or (data.labels[0, 0, 10] != data.predictions[0]).any())
    with pytest.raises(ValueError, match="center"):
        compute_church_windows(model, x, attack="pgd", eps=0.3, center="corner")


def test_face_needs_free_pixels(setup):
    model, _, _ = setup
    binary = (torch.arange(16) % 2).float().reshape(1, *SHAPE)
    with pytest.raises(ValueError, match="face=False"):
        compute_church_windows(model, binary, attack="gradient", resolution=5)
