"""Carlini–Wagner L2: finds adversarials, reaches the analytic minimum of a linear model, searches c per sample."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import ATTACKS, CarliniWagner


@pytest.fixture(scope="module")
def digits_mlp(digits_mlp):
    """The small digits MLP (tests/attacks/conftest.py) and 24 test inputs."""
    model, x, y = digits_mlp
    return model, x[:24], y[:24]


@pytest.fixture(scope="module")
def cw_result(digits_mlp):
    """One default-search run shared by the tests that only read it (and by the peer cross-checks)."""
    model, x, y = digits_mlp
    return CarliniWagner(steps=100, lr=0.1, binary_search_steps=5, initial_const=0.1)(model, x, y)


def test_finds_adversarials_for_correctly_classified_inputs(digits_mlp, cw_result):
    model, x, y = digits_mlp
    result = cw_result
    correct = result.clean_predictions == y
    assert result.success[0][correct].float().mean() >= 0.95
    # Misclassified inputs are their own minimal adversarial.
    assert torch.all(result.min_distances[~correct] == 0)
    ok = result.success[0]
    assert torch.allclose(result.min_distances[ok], result.distances["l2"][0][ok], atol=1e-5)
    assert model.bounds.contains(result.adversarials[0]).all()
    assert (result.predictions[0][ok & correct] != y[ok & correct]).all()


def test_linear_model_minimum_is_nearly_exact(linear_problem):
    model, x, y, minima = linear_problem
    analytic = minima["l2"]
    result = CarliniWagner(steps=100, lr=0.01, binary_search_steps=6, initial_const=0.1)(model, x, y)
    ratio = result.min_distances / analytic
    assert result.success.all()
    # Nothing can beat the analytic minimum; CW lands within 2% of it for the median input.
    assert ratio.min() >= 1 - 1e-4
    assert ratio.median() <= 1.02


def test_binary_search_adapts_the_constant_per_sample(digits_mlp, cw_result):
    model, x, y = digits_mlp
    fixed = CarliniWagner(steps=100, lr=0.1, binary_search_steps=1, initial_const=0.1)(model, x, y)
    # c = 0.1 is too small to cross the boundary; the search raises it where needed.
    assert cw_result.success_rate[0] > fixed.success_rate[0] + 0.5


def test_confidence_keeps_a_logit_margin(digits_mlp):
    model, x, y = digits_mlp
    kappa = 2.0
    x, y = x[:12], y[:12]
    plain = CarliniWagner(steps=50, lr=0.05, binary_search_steps=5, initial_const=0.1)(model, x, y)
    confident = CarliniWagner(steps=50, lr=0.05, binary_search_steps=5, initial_const=0.1, confidence=kappa)(model, x, y)
    ok = confident.success[0] & (confident.clean_predictions == y)
    logits = model.logits(confident.adversarials[0][ok])
    true = logits.gather(1, y[ok][:, None]).squeeze(1)
    others = logits.scatter(1, y[ok][:, None], float("-inf")).amax(dim=1)
    assert ok.sum() >= 8
    assert (others - true >= kappa - 1e-3).all()
    both = ok & plain.success[0]
    assert (confident.min_distances[both] > plain.min_distances[both]).all()


def test_targeted_hits_the_target(digits_mlp):
    model, x, y = digits_mlp
    target = (y + 1) % 10
    attack = CarliniWagner(steps=100, lr=0.1, binary_search_steps=5, initial_const=0.1)
    result = attack(model, x[:12], y[:12], target=target[:12])
    assert result.success_rate[0] >= 0.9
    ok = result.success[0]
    assert (result.predictions[0][ok] == target[:12][ok]).all()


def test_same_seed_same_result(digits_mlp):
    model, x, y = digits_mlp
    attack = CarliniWagner(steps=30, binary_search_steps=3, lr=0.05)
    a, b = attack(model, x[:8], y[:8], seed=3), attack(model, x[:8], y[:8], seed=3)
    assert torch.equal(a.adversarials, b.adversarials)


def test_converted_sklearn_logistic_regression(digits_logistic_regression):
    model, ds = digits_logistic_regression
    x, y = ds.x_test[:12].flatten(1), ds.y_test[:12]
    result = CarliniWagner(steps=50, lr=0.05, binary_search_steps=5, initial_const=0.1)(model, x, y)
    assert result.success_rate[0] >= 0.9
    assert torch.isfinite(result.min_distances).sum() == result.success[0].sum()


def test_registered_and_validated():
    attack = ATTACKS.create("cw", steps=10)
    assert isinstance(attack, CarliniWagner) and attack.steps == 10 and attack.norm.name == "l2"
    assert CarliniWagner.minimization
    for bad in ({"steps": 0}, {"lr": -1.0}, {"initial_const": 0.0}, {"confidence": -1.0}, {"binary_search_steps": 1.5}):
        with pytest.raises(ValueError):
            CarliniWagner(**bad)


# --- cross-checks against peer libraries -----------------------------------------------------------
@pytest.fixture(scope="module")
def correct_inputs(digits_mlp, cw_result):
    """The inputs the model classifies correctly (the peers attack every input they get), and our
    minimal distances for them."""
    model, x, y = digits_mlp
    keep = model.predict(x) == y
    return model, x[keep], y[keep], cw_result.min_distances[keep]


@pytest.mark.peer
def test_matches_foolbox_carlini_wagner(correct_inputs):
    fb = pytest.importorskip("foolbox")
    model, x, y, ours = correct_inputs
    theirs_attack = fb.attacks.L2CarliniWagnerAttack(binary_search_steps=5, steps=100, stepsize=0.1, initial_const=0.1)
    _, adv, ok = theirs_attack(fb.PyTorchModel(model.eval(), bounds=(0, 1)), x, y, epsilons=None)
    theirs = (adv - x).flatten(1).norm(dim=1)
    both = ok & torch.isfinite(ours)
    assert both.float().mean() >= 0.9
    assert ours[both].median() <= 1.15 * theirs[both].median()
    assert ours[both].median() >= 0.85 * theirs[both].median()


@pytest.mark.peer
def test_binary_search_beats_torchattacks_fixed_constant(correct_inputs):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y, ours = correct_inputs
    adv = torchattacks.CW(model.eval(), c=1, kappa=0, steps=100, lr=0.1)(x, y)
    ok = model.predict(adv) != y
    theirs = (adv - x).flatten(1).norm(dim=1)
    both = ok & torch.isfinite(ours)
    # torchattacks runs one fixed c; our per-sample search finds at least as many, no larger.
    assert torch.isfinite(ours).sum() >= ok.sum()
    assert ours[both].median() <= 1.02 * theirs[both].median()
