"""APGD: the step-size checkpoints, the DLR loss, ART's implementation as reference, early stopping, targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlab.attacks import APGD, APGDT, ATTACKS
from advlab.attacks.apgd import checkpoints, dlr_loss


def test_checkpoints_follow_the_paper():
    # p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 (then > 1): w_j = ⌈p_j · N⌉.
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(10)[0] == 3 and checkpoints(10)[-1] <= 10


def test_dlr_is_shift_and_scale_invariant():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, 10, generator=g)
    y = torch.randint(0, 10, (16,), generator=g)
    t = (y + 1) % 10
    for target in (None, t):
        assert torch.allclose(dlr_loss(z, y, target), dlr_loss(3.5 * z + 2.0, y, target), atol=1e-5)
    # Untargeted DLR is positive exactly when y is not the top class.
    wrong = z.argmax(1) != y
    assert torch.equal(dlr_loss(z, y) > 0, wrong)


@pytest.mark.parametrize("loss,art_loss", [("ce", "cross_entropy"), ("dlr", "difference_logits_ratio")])
def test_matches_art_apgd(digits_mlp, loss, art_loss):
    """Same model, inputs, ε and iterations as ART's AutoProjectedGradientDescent: no weaker than it."""
    art = pytest.importorskip("art.attacks.evasion")
    from art.estimators.classification import PyTorchClassifier

    model, x, y = digits_mlp
    eps, steps = 0.08, 30
    ours = APGD("linf", steps=steps, loss=loss)(model, x, y, eps=eps, seed=0).robust_accuracy[0].item()
    clf = PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
                            nb_classes=10, clip_values=(0.0, 1.0))
    adv = art.AutoProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=steps, nb_random_init=1,
                                           batch_size=len(x), loss_type=art_loss, verbose=False).generate(x.numpy(), y=y.numpy())
    theirs = float((clf.predict(adv).argmax(1) == y.numpy()).mean())
    assert ours <= theirs + 1 / len(x) + 1e-9, (ours, theirs)
    assert abs(ours - theirs) <= 3 / len(x) + 1e-9, (ours, theirs)


def test_stronger_than_fgsm_and_monotone_in_eps(digits_mlp):
    model, x, y = digits_mlp
    res = APGD("linf", steps=30)(model, x, y, eps=[0.02, 0.05, 0.1], seed=0)
    acc = res.robust_accuracy
    assert acc[0] >= acc[1] >= acc[2]
    fgsm = ATTACKS.create("fgsm")(model, x, y, eps=[0.05]).robust_accuracy[0]
    assert acc[1] <= fgsm


def test_l2(digits_mlp):
    model, x, y = digits_mlp
    res = APGD("l2", steps=30)(model, x, y, eps=[0.5, 1.5], seed=0)
    assert res.robust_accuracy[0] > res.robust_accuracy[1]
    assert (res.distances["l2"] <= torch.tensor([[0.5], [1.5]]) + 1e-4).all()


def test_broken_points_stop_costing(digits_mlp):
    """At a huge ε every input falls in the first steps; the average input costs far fewer than ``steps`` queries."""
    model, x, y = digits_mlp
    res = APGD("linf", steps=100)(model, x, y, eps=0.5, seed=0)
    assert res.success_rate[0] == 1.0
    assert res.queries[0].float().mean() < 20


def test_targeted_and_apgd_t(digits_mlp):
    model, x, y = digits_mlp
    target = (y + 1) % 10
    res = APGD("linf", steps=50, loss="dlr")(model, x, y, eps=0.5, target=target, seed=0)
    assert res.success_rate[0] >= 0.9
    assert (res.predictions[0][res.success[0]] == target[res.success[0]]).all()
    t = APGDT("linf", steps=20, targets=3)(model, x, y, eps=0.05, seed=0)
    ce = APGD("linf", steps=20)(model, x, y, eps=0.05, seed=0)
    assert t.robust_accuracy[0] <= ce.robust_accuracy[0] + 0.05
    assert t.config["targets"] == 3


def test_reproducible_and_validated(digits_mlp):
    model, x, y = digits_mlp
    a = APGD(steps=10)(model, x[:8], y[:8], eps=0.05, seed=3)
    b = APGD(steps=10)(model, x[:8], y[:8], eps=0.05, seed=3)
    assert torch.equal(a.adversarials, b.adversarials)
    assert isinstance(ATTACKS.create("apgd-t", steps=5), APGDT)
    for bad in ({"norm": "l0"}, {"loss": "mse"}, {"steps": 0}, {"rho": 1.5}):
        with pytest.raises(ValueError):
            APGD(**bad)
