"""Transfer matrices on tiny digits models: shapes, names, the white-box diagonal, rates, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlab import data
from advlab.attacks import ATTACKS
from advlab.evaluate import TransferResult, transfer
from advlab.models import build, wrap
from advlab.train import fit


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


@pytest.fixture(scope="module")
def models(digits):
    torch.manual_seed(0)
    soft = build("softmax", input_shape=digits.input_shape, classes=digits.class_names)
    fit(soft, digits, epochs=4, lr=1e-2, quiet=True)
    mlp = build("mlp", input_shape=digits.input_shape, classes=digits.class_names, widths=[32])
    fit(mlp, digits, epochs=4, lr=1e-2, quiet=True, seed=1)
    return {"soft": soft, "mlp": mlp}


def test_diagonal_is_the_whitebox_error_and_shapes_and_names(digits, models):
    x, y = digits.x_test[:120], digits.y_test[:120]
    fgsm = ATTACKS.create("fgsm")
    eps = [0.05, 0.2]
    r = transfer(models, models, fgsm, x, y, eps, seed=0)
    assert isinstance(r, TransferResult)
    assert r.error_rate.shape == r.transfer_rate.shape == (2, 2, 2)
    assert r.source_names == r.target_names == ("soft", "mlp")
    assert r.n == 120 and r.eps == eps
    for i, m in enumerate(models.values()):
        whitebox = 1.0 - fgsm(m, x, y, eps=eps, seed=0).robust_accuracy.numpy()
        np.testing.assert_allclose(r.error_rate[:, i, i], whitebox, atol=1e-7)
        np.testing.assert_allclose(r.source_error[:, i], whitebox, atol=1e-7)
    # Larger ε fools more, and something does transfer off the diagonal.
    assert (r.error_rate[1] >= r.error_rate[0]).all()
    assert r.error_rate[1, 0, 1] > r.clean_error[1] + 0.1
    assert len(r.table()) == 2 * 2 * 2
    assert "transfer rate" in str(r) and "soft" in str(r)


def test_transfer_rate_counts_only_inputs_both_models_get_right(digits, models):
    x, y = digits.x_test[:100], digits.y_test[:100]
    soft, mlp = models["soft"], models["mlp"]
    fgsm = ATTACKS.create("fgsm")
    r = transfer([soft], {"mlp": mlp}, fgsm, x, y, 0.1, seed=0)
    adv = fgsm(soft, x, y, eps=0.1, seed=0).adversarials[0]
    both = (soft.predict(x) == y) & (mlp.predict(x) == y)
    wrong = mlp.predict(adv) != y
    assert r.both_correct[0, 0] == int(both.sum())
    assert r.transfer_rate[0, 0, 0] == pytest.approx(wrong[both].float().mean().item())
    assert r.error_rate[0, 0, 0] == pytest.approx(wrong.float().mean().item())
    assert r.clean_error[0] == pytest.approx((mlp.predict(x) != y).float().mean().item())
    assert r.source_names == ("softmax",)


def test_list_names_are_made_unique_and_black_box_targets_work(digits, models):
    x, y = digits.x_test[:40], digits.y_test[:40]
    soft = models["soft"]
    box = wrap(lambda a: soft.predict_proba(torch.as_tensor(a)).numpy(), bounds=(0, 1), classes=digits.class_names,
               input_shape=digits.input_shape)
    r = transfer([soft, soft], [box], ATTACKS.create("fgsm"), x, y, 0.2, seed=0)
    assert r.source_names == ("softmax#1", "softmax#2")
    # The black box computes the same function as the source: same errors as white-box.
    np.testing.assert_allclose(r.error_rate[0, :, 0], r.source_error[0], atol=1e-7)


def test_mismatched_models_and_bad_arguments_fail_clearly(digits, models):
    x, y = digits.x_test[:10], digits.y_test[:10]
    soft = models["soft"]
    fgsm = ATTACKS.create("fgsm")
    other_shape = build("softmax", input_shape=(1, 4, 4), classes=10)
    other_classes = build("softmax", input_shape=digits.input_shape, classes=3)
    other_bounds = build("softmax", input_shape=digits.input_shape, classes=10, bounds=(0, 2))
    with pytest.raises(ValueError, match="shape"):
        transfer([soft], [other_shape], fgsm, x, y, 0.1)
    with pytest.raises(ValueError, match="classes"):
        transfer([soft], [other_classes], fgsm, x, y, 0.1)
    with pytest.raises(ValueError, match="bounds"):
        transfer([soft], [other_bounds], fgsm, x, y, 0.1)
    with pytest.raises(ValueError, match="labels"):
        transfer([soft], [soft], fgsm, x, None, 0.1)
    with pytest.raises(ValueError, match="empty"):
        transfer([], [soft], fgsm, x, y, 0.1)
    with pytest.raises(TypeError, match="Attack"):
        transfer([soft], [soft], "fgsm", x, y, 0.1)
    with pytest.raises(TypeError, match="Model"):
        transfer([soft], [torch.nn.Linear(64, 10)], fgsm, x, y, 0.1)
    with pytest.raises(ValueError, match="eps"):
        transfer([soft], [soft], fgsm, x, y, None)
    with pytest.raises(ValueError, match="y must be in"):
        transfer([soft], [soft], fgsm, x, torch.full((10,), 12), 0.1)
