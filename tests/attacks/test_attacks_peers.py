"""Cross-checks against torchattacks and Foolbox on the same model and data (skipped when missing)."""

from __future__ import annotations

import pytest
import torch

from advlab import attacks, data, models, train

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def digits_cnn():
    ds = data.load("digits", quiet=True)
    torch.manual_seed(0)
    model = models.build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names)
    train.fit(model, ds, epochs=2, lr=1e-2, batch_size=64, quiet=True, seed=0)
    model.eval()
    return model, ds.x_test[:100], ds.y_test[:100]


def _same(a: torch.Tensor, b: torch.Tensor) -> None:
    # The peers average the loss over the batch, we sum it: the gradients differ by a positive
    # factor, so signs and normalised directions agree up to float rounding.
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_equals_torchattacks(digits_cnn, targeted: bool) -> None:
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits_cnn
    peer = torchattacks.FGSM(model, eps=0.1)
    target = (y + 1) % 10
    if targeted:
        peer.set_mode_targeted_by_function(lambda images, labels: target)
    theirs = peer(x, y)
    ours = attacks.FGSM()(model, x, y, eps=0.1, target=target if targeted else None).adversarials[0]
    _same(ours, theirs)


def test_fgsm_equals_foolbox(digits_cnn) -> None:
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_cnn
    _, theirs, _ = fb.attacks.LinfFastGradientAttack()(fb.PyTorchModel(model, bounds=(0, 1)), x, y, epsilons=[0.05, 0.2])
    ours = attacks.FGSM()(model, x, y, eps=[0.05, 0.2]).adversarials
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


def test_l2_fgm_equals_foolbox(digits_cnn) -> None:
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_cnn
    _, theirs, _ = fb.attacks.L2FastGradientAttack()(fb.PyTorchModel(model, bounds=(0, 1)), x, y, epsilons=1.0)
    _same(attacks.FGSM("l2")(model, x, y, eps=1.0).adversarials[0], theirs)


def test_pgd_without_random_start_equals_torchattacks(digits_cnn) -> None:
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits_cnn
    theirs = torchattacks.PGD(model, eps=0.2, alpha=0.02, steps=15, random_start=False)(x, y)
    ours = attacks.PGD(steps=15, stepsize=0.02, random_start=False)(model, x, y, eps=0.2).adversarials[0]
    _same(ours, theirs)


def test_pgd_equals_foolbox_linf_pgd(digits_cnn) -> None:
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_cnn
    peer = fb.attacks.LinfPGD(abs_stepsize=0.02, steps=15, random_start=False)
    _, theirs, _ = peer(fb.PyTorchModel(model, bounds=(0, 1)), x, y, epsilons=0.2)
    _same(attacks.PGD(steps=15, stepsize=0.02, random_start=False)(model, x, y, eps=0.2).adversarials[0], theirs)


def test_deepfool_agrees_with_torchattacks(digits_cnn) -> None:
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits_cnn
    keep = model.predict(x) == y
    x, y = x[keep][:20], y[keep][:20]
    theirs = torchattacks.DeepFool(model, steps=50, overshoot=0.02)(x, y)
    ours = attacks.DeepFool()(model, x, y)
    assert ours.success.all()
    # torchattacks leaves some inputs unfooled (it clips every step and may stall on the box);
    # where both succeed, the same algorithm with different bookkeeping (they overshoot every
    # step, we the total) should land at similar distances.
    both = model.predict(theirs) != y
    assert both.float().mean() > 0.5
    theirs_l2 = (theirs - x).flatten(1).norm(dim=1)[both]
    assert abs(ours.min_distances[both].median() / theirs_l2.median() - 1) < 0.1
