"""FGSM, BIM and PGD on small trained digits models: behaviour that breaks if the loop is wrong."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advlab import attacks
from advlab.attacks.gradients import margin, objective

EPS = {"linf": [0.02, 0.1, 0.3], "l2": [0.2, 1.0, 3.0], "l1": [1.0, 4.0, 12.0]}


@pytest.fixture(scope="module")
def mlp(train_on_digits):
    return train_on_digits("mlp", widths=[32])


@pytest.fixture(scope="module")
def cnn(train_on_digits):
    return train_on_digits("cnn-small")


@pytest.mark.parametrize("norm", ["linf", "l2", "l1"])
@pytest.mark.parametrize("make", [attacks.FGSM, attacks.BIM, attacks.PGD], ids=lambda c: c.__name__)
def test_success_grows_with_eps_and_results_respect_the_norm(mlp, make, norm: str) -> None:
    model, x, y = mlp
    result = make(norm)(model, x, y, eps=EPS[norm], seed=0)
    rate = result.success_rate
    assert (rate[1:] >= rate[:-1]).all(), rate
    assert rate[-1] > 0.5 and rate[-1] > rate[0]
    for k, e in enumerate(EPS[norm]):
        assert (result.distances[norm][k] <= e * (1 + 1e-5) + 1e-6).all()
    assert ((result.adversarials >= 0) & (result.adversarials <= 1)).all()


def test_pgd_on_a_cnn_reaches_high_success(cnn) -> None:
    model, x, y = cnn
    result = attacks.PGD()(model, x, y, eps=[0.05, 0.3], seed=0)
    assert result.success_rate[1] > 0.9 and result.success_rate[1] > result.success_rate[0]


@pytest.mark.parametrize("norm", ["linf", "l2", "l1"])
def test_iterating_beats_fgsm(mlp, norm: str) -> None:
    model, x, y = mlp
    eps = EPS[norm][:2]
    fgsm = attacks.FGSM(norm)(model, x, y, eps=eps).success_rate
    # Madry et al.'s rule of thumb, step 2.5·ε/steps, lets a random start cross the ball;
    # the default L∞ step (0.01/0.3·ε) with 40 steps does not always (it can lose to FGSM).
    # In L1 a random start fills the whole budget with dense noise and loses to FGSM here.
    rivals = [attacks.BIM(norm), attacks.PGD(norm, random_start=False)]
    if norm != "l1":
        rivals.append(attacks.PGD(norm, rel_stepsize=2.5 / 40))
    for attack in rivals:
        rate = attack(model, x, y, eps=eps, seed=0).success_rate
        assert (rate >= fgsm).all(), (attack, rate, fgsm)


@pytest.mark.parametrize("loss", ["ce", "cw"])
def test_targeted_pgd_hits_the_target(mlp, loss: str) -> None:
    model, x, y = mlp
    target = (y + 3) % 10
    result = attacks.PGD(loss=loss)(model, x, y, eps=[0.05, 0.5], target=target, seed=0)
    assert result.targeted
    assert torch.equal(result.success, result.predictions == target[None])
    assert result.success_rate[1] > 0.9 and result.success_rate[1] > result.success_rate[0]


def test_restarts_are_never_worse_per_sample(mlp) -> None:
    model, x, y = mlp
    one = attacks.PGD(steps=5, rel_stepsize=0.25)(model, x, y, eps=0.1, seed=11)
    three = attacks.PGD(steps=5, rel_stepsize=0.25, restarts=3)(model, x, y, eps=0.1, seed=11)
    assert (three.success[0] >= one.success[0]).all()
    # fooled samples are not restarted: fewer model calls than 3 × (5 steps + 1 scoring forward)
    assert three.queries.float().mean() < 18


def test_fgsm_matches_the_closed_form(mlp) -> None:
    model, x, y = mlp
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y, reduction="sum"), xr)
    expected_linf = (x + 0.1 * g.sign()).clamp(0, 1)
    expected_l2 = (x + 0.5 * g / g.flatten(1).norm(dim=1)[:, None, None, None]).clamp(0, 1)
    torch.testing.assert_close(attacks.FGSM()(model, x, y, eps=0.1).adversarials[0], expected_linf)
    torch.testing.assert_close(attacks.FGSM("l2")(model, x, y, eps=0.5).adversarials[0], expected_l2)


def test_absolute_stepsize_overrides_relative(mlp) -> None:
    model, x, y = mlp
    x = torch.full_like(x, 0.5)  # room to move in both directions
    one_step = attacks.PGD(steps=1, stepsize=0.01, rel_stepsize=0.9, random_start=False)
    delta = one_step(model, x, y, eps=0.3).perturbations()[0]
    assert torch.allclose(delta.abs()[delta != 0], torch.tensor(0.01), atol=1e-6)
    rel = attacks.PGD(steps=1, rel_stepsize=0.5, random_start=False)(model, x, y, eps=0.1).perturbations()[0]
    assert torch.allclose(rel.abs()[rel != 0], torch.tensor(0.05), atol=1e-6)


def test_one_forward_backward_per_step(mlp) -> None:
    model, x, y = mlp
    result = attacks.PGD(steps=7)(model, x, y, eps=[0.1, 0.2], seed=0)
    assert (result.queries == 7).all()


def test_sparse_l1_steps_move_few_pixels(mlp) -> None:
    model, x, y = mlp
    result = attacks.BIM("l1", steps=2)(model, x, y, eps=2.0)
    # two steps touching the top 1 % (one of 64) of coordinates each: at most two pixels change
    assert (result.distances["l0"][0] <= 2).all()


def test_objectives_point_the_right_way() -> None:
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    y = torch.tensor([0, 1])
    torch.testing.assert_close(margin(logits, y), torch.tensor([2.0, -3.0]))
    cw = objective(logits, y, None, "cw")
    assert (cw > 0).tolist() == [False, True]  # positive exactly when misclassified
    target = torch.tensor([2, 2])
    assert (objective(logits, y, target, "cw") > 0).tolist() == [False, True]
    torch.testing.assert_close(objective(logits, y, target, "ce"), -F.cross_entropy(logits, target, reduction="none"))
