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


# --- windows sized from the exact polygon plane ∩ H -------------------------------------------------------------


def test_square_share_and_fit_match_closed_forms():
    from advlab.viz.church_fit import fit_half_width, grid_share, square_share

    big = 100.0
    half_plane = np.array([[-big, -big], [0.3, -big], [0.3, big], [-big, big]])  # s ≤ 0.3
    for r in (0.2, 0.5, 1.0, 4.0):
        assert square_share(half_plane, r) == pytest.approx(min(1.0, (0.3 + r) / (2 * r)), abs=1e-12)
    diamond = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])  # |s| + |t| ≤ 1: area 2
    assert square_share(diamond, 0.5) == 1.0 and square_share(diamond, 1.0) == pytest.approx(0.5)
    assert square_share(diamond, 2.0) == pytest.approx(2 / 16)
    # the share falls as r grows, so the bisection finds the one r with share = target; for 1/2 ≤ r ≤ 1 the square
    # [−r, r]² loses four corner triangles of legs 2r − 1: share = (4r² − 2(2r − 1)²) / 4r²
    for target in (0.5, 0.75, 0.9):
        r = fit_half_width(diamond, 5.0, target)
        assert square_share(diamond, r) >= target and r == pytest.approx(_diamond_root(target), rel=1e-3)
    assert fit_half_width(diamond, 0.4, 0.5) == 0.4  # the largest half-width already qualifies
    assert fit_half_width(diamond, 5.0, 0.0) == 5.0  # min_inside = 0: no sizing
    # the picture's pixel centres: with resolution, the fit holds the target there too
    r = fit_half_width(diamond, 5.0, 0.5, resolution=7)
    assert grid_share(diamond, r, 7) >= 0.5 and r <= 1.0 + 1e-9
    assert grid_share(diamond, 0.5, 9) == 1.0 and grid_share(diamond, 2.0, 2) == 0.0
    with pytest.raises(ValueError, match="min_inside"):
        fit_half_width(diamond, 1.0, 1.0)


def _diamond_root(target: float) -> float:
    """r ≥ 1/2 with (4r² − 2(2r − 1)²)/4r² = target (for r ≥ 1: 2/4r²)."""
    rs = np.linspace(0.5, 3.0, 250001)
    share = np.where(rs <= 1, (4 * rs**2 - 2 * (2 * rs - 1) ** 2) / (4 * rs**2), 2 / (4 * rs**2))
    return float(rs[np.argmin(np.abs(share - target))])


@pytest.fixture(scope="module")
def digits_windows():
    from advlab.attacks import ATTACKS
    from advlab.data import load
    from advlab.models import build
    from advlab.train import fit

    ds = load("digits")
    torch.manual_seed(0)
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names)
    fit(model, ds, epochs=3, seed=0, lr=3e-3, quiet=True)
    model.eval()
    x, y = ds.x_test[:10], ds.y_test[:10]
    kwargs = {"attack": ATTACKS.create("pgd", norm="l2"), "eps": 2.0, "resolution": 16, "center": "midpoint", "seed": 0}
    fitted = compute_church_windows(model, x, y, **kwargs)
    fixed = compute_church_windows(model, x, y, **kwargs, min_inside=0.0)
    return model, x, fitted, fixed


def test_every_window_is_at_least_half_inside_h_on_digits(digits_windows):
    model, x, fitted, fixed = digits_windows
    assert fitted.min_inside == 0.5 and fixed.min_inside == 0.0
    # one half-width for all without sizing; with it, none is larger, and some windows had to shrink
    assert (fixed.half_widths == fixed.radius).all() and fitted.radius == pytest.approx(fixed.radius)
    assert (fitted.half_widths <= fitted.radius + 1e-12).all()
    assert (fixed.inside_share < 0.5).any() and (fitted.half_widths < fitted.radius).any()
    # every window: ≥ 50% of its area inside H (exact polygon) and of the pixels drawn
    assert (fitted.inside_share >= 0.5 - 1e-9).all()
    assert (fitted.feasible.mean(axis=(2, 3)) >= 0.5).all()
    # the exact share agrees with an independent Monte-Carlo estimate in input space
    g = np.random.default_rng(0)
    flat = x.reshape(len(x), -1).double().numpy()
    for i, j in ((0, 0), (3, 1), (7, 2)):
        r = fitted.half_widths[i, j]
        st = g.uniform(-r, r, size=(20000, 2))
        centre = flat[i] + fitted.centre_offsets[i, j] * fitted.directions[i, j, 0]
        pts = centre + st @ fitted.directions[i, j]
        inside = ((pts >= -1e-9) & (pts <= 1 + 1e-9)).all(axis=1).mean()
        assert inside == pytest.approx(fitted.inside_share[i, j], abs=0.015)
    # the windows are still evaluated where they say: the image is the prediction at its own place
    assert (fitted.image_labels[fitted.image_labels >= 0] == np.broadcast_to(fitted.predictions[:, None], fitted.image_labels.shape)[fitted.image_labels >= 0]).all()


def test_the_adversarial_axis_still_crosses_a_boundary_on_digits(digits_windows):
    _, _, fitted, fixed = digits_windows
    adversarial = [k != "random" for k in fitted.kinds]
    crosses = fitted.crosses_boundary()[:, adversarial]
    assert crosses.mean() > 0.5  # most adversarial windows show another class along their axis, inside H
    assert crosses.sum() >= fitted.fooled[:, adversarial].sum() - 2  # sizing loses few of the crossings the attack made


def test_a_minimal_adversarial_moves_past_the_boundary(digits_windows):
    model, x, _, _ = digits_windows
    kw = {"attack": "deepfool", "kinds": ("adversarial",), "resolution": 12, "center": "midpoint"}
    on = compute_church_windows(model, x[:4], **kw, extend=None)
    past = compute_church_windows(model, x[:4], **kw)  # default: 1.5× the minimal distance, clipped to H
    assert "1.5× the minimal distance" in past.source and "minimal distance" not in on.source
    # same direction; ☆ at most 1.5 times as far (exactly 1.5 unless a pixel was clipped to its bound)
    np.testing.assert_allclose(np.abs(np.einsum("nd,nd->n", on.directions[:, 0, 0], past.directions[:, 0, 0])), 1, atol=0.05)
    assert (past.step[:, 0] <= 1.5 * on.step[:, 0] + 1e-6).all() and (past.step[:, 0] > 1.1 * on.step[:, 0]).all()
    assert past.fooled.all() and past.crosses_boundary().mean() >= 0.75
    with pytest.raises(ValueError, match="extend"):
        compute_church_windows(model, x[:1], **kw, extend=0.5)
