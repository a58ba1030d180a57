"""Decoupled direction and norm (DDN): finds minimal L2 adversarials, quantises, matches Foolbox."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import ATTACKS, DDN


@pytest.fixture(scope="module")
def ddn_result(digits_mlp):
    model, x, y = digits_mlp
    return DDN(steps=100)(model, x, y)


def test_finds_adversarials_for_correctly_classified_inputs(digits_mlp, ddn_result):
    model, x, y = digits_mlp
    result = ddn_result
    correct = result.clean_predictions == y
    assert result.success[0][correct].float().mean() >= 0.95
    assert torch.all(result.min_distances[~correct] == 0)
    ok = result.success[0]
    assert torch.allclose(result.min_distances[ok], result.distances["l2"][0][ok], atol=1e-5)
    assert model.bounds.contains(result.adversarials[0]).all()


def test_linear_model_minimum(linear_problem):
    model, x, y, minima = linear_problem
    analytic = minima["l2"]
    result = DDN(steps=100)(model, x, y)
    ratio = result.min_distances / analytic
    assert result.success.all()
    assert ratio.min() >= 1 - 1e-4  # nothing beats the analytic minimum
    assert ratio.median() <= 1.03


def test_quantised_adversarials_lie_on_the_grid(digits_mlp):
    model, x, y = digits_mlp
    x = (x * 255).round() / 255  # start on the 8-bit grid
    result = DDN(steps=100, levels=256)(model, x, y)
    assert result.success_rate[0] >= 0.9
    scaled = result.adversarials[0] * 255
    assert torch.allclose(scaled, scaled.round(), atol=1e-3)


def test_targeted_hits_the_target(digits_mlp):
    model, x, y = digits_mlp
    target = (y + 5) % 10
    result = DDN(steps=100)(model, x[:16], y[:16], target=target[:16])
    assert result.success_rate[0] >= 0.9
    ok = result.success[0]
    assert (result.predictions[0][ok] == target[:16][ok]).all()


def test_same_seed_same_result(digits_mlp):
    model, x, y = digits_mlp
    attack = DDN(steps=20)
    a, b = attack(model, x[:8], y[:8], seed=1), attack(model, x[:8], y[:8], seed=1)
    assert torch.equal(a.adversarials, b.adversarials)


def test_converted_sklearn_logistic_regression(digits_logistic_regression):
    model, ds = digits_logistic_regression
    x, y = ds.x_test[:16].flatten(1), ds.y_test[:16]
    result = DDN(steps=50)(model, x, y)
    assert result.success_rate[0] >= 0.9
    assert torch.isfinite(result.min_distances).sum() == result.success[0].sum()


def test_registered_and_validated():
    attack = ATTACKS.create("ddn", steps=10, gamma=0.1)
    assert isinstance(attack, DDN) and attack.steps == 10 and attack.gamma == 0.1 and attack.norm.name == "l2"
    for bad in ({"steps": 0}, {"gamma": 0.0}, {"gamma": 1.0}, {"init_epsilon": -1.0}, {"levels": 1}):
        with pytest.raises(ValueError):
            DDN(**bad)


@pytest.mark.peer
def test_matches_foolbox_ddn(digits_mlp, ddn_result):
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_mlp
    keep = model.predict(x) == y
    attack = fb.attacks.DDNAttack(init_epsilon=1.0, steps=100, gamma=0.05)
    _, adv, ok = attack(fb.PyTorchModel(model.eval(), bounds=(0, 1)), x[keep], y[keep], epsilons=None)
    theirs = (adv - x[keep]).flatten(1).norm(dim=1)
    ours = ddn_result.min_distances[keep]
    both = ok & torch.isfinite(ours)
    assert both.float().mean() >= 0.9
    assert 0.85 <= (ours[both].median() / theirs[both].median()).item() <= 1.15
