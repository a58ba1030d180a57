"""AdversarialGallery and TransferDisplay: the numbers they draw, on tiny models; figures closed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab import data
from advlab.attacks import ATTACKS
from advlab.evaluate import transfer
from advlab.models import build
from advlab.viz import AdversarialGallery, TransferDisplay, gallery_data


@pytest.fixture(scope="module")
def setup():
    ds = data.load("digits")
    torch.manual_seed(0)
    model = build("softmax", input_shape=ds.input_shape, classes=ds.class_names)
    x, y = ds.x_test[:30], ds.y_test[:30]
    return model, x, y, ATTACKS.create("fgsm")(model, x, y, eps=[0.05, 0.2], seed=0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_gallery_data_shows_successes_first_and_the_true_perturbation(setup):
    model, x, y, result = setup
    d = gallery_data(result, n=5, class_names=model.classes)
    assert d.originals.shape == d.adversarials.shape == d.perturbations.shape == (5, 8, 8)
    assert d.eps == 0.2  # default: the largest ε
    k = 1
    ok = result.success[k].numpy()
    expected = np.concatenate([np.flatnonzero(ok), np.flatnonzero(~ok)])[:5]
    np.testing.assert_array_equal(d.indices, expected)
    np.testing.assert_allclose(d.perturbations, d.adversarials - d.originals, atol=1e-6)
    assert np.abs(d.perturbations).max() * d.scale == pytest.approx(0.5)
    np.testing.assert_array_equal(d.predictions, result.predictions[k][expected].numpy())


def test_gallery_from_result_draws_three_rows_with_confidences(setup):
    model, x, y, result = setup
    g = AdversarialGallery.from_result(result, model=model, n=4, eps_index=0, scale=10.0)
    assert g.axes_.shape == (3, 4)
    assert g.data.scale == 10.0 and g.data.eps == 0.05
    probs = model.predict_proba(x[torch.as_tensor(g.data.indices)])
    np.testing.assert_allclose(g.data.clean_confidences, probs.max(1).values.numpy(), atol=1e-6)
    titles = [g.axes_[0][j].get_title() for j in range(4)]
    assert all(t.startswith(f"true {model.classes[c]}") for t, c in zip(titles, g.data.labels))
    assert "×10" in g.axes_[1][0].get_ylabel()
    assert f"({g.data.confidences[0]:.2f})" in g.axes_[2][0].get_title()


def test_gallery_rejects_non_images_and_bad_arguments(setup):
    _, _, _, result = setup
    with pytest.raises(ValueError, match="scale"):
        gallery_data(result, scale=-1.0)
    with pytest.raises(ValueError, match="indices"):
        gallery_data(result, indices=[999])
    with pytest.raises(TypeError):
        gallery_data("not a result")
    ds = data.load("iris")
    flat = build("softmax", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
    tab = ATTACKS.create("fgsm")(flat, ds.x_test[:5], ds.y_test[:5], eps=0.1)
    with pytest.raises(ValueError, match="images"):
        gallery_data(tab)


def test_transfer_display_writes_the_matrix_in_its_cells(setup):
    model, x, y, _ = setup
    r = transfer({"a": model}, {"a": model, "b": model}, ATTACKS.create("fgsm"), x, y, [0.05, 0.2], seed=0)
    disp = TransferDisplay(r).plot(eps_index=1, kind="transfer")
    texts = [t.get_text() for t in disp.ax_.texts]
    assert texts == [f"{100 * v:.1f}%" for v in r.transfer_rate[1].ravel()]
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["a", "b"]
    fig = TransferDisplay.grid(r)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="kind"):
        TransferDisplay(r).plot(kind="other")
    with pytest.raises(ValueError, match="eps_index"):
        TransferDisplay(r).plot(eps_index=5)
