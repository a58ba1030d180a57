"""Fast minimum-norm attack: every norm, analytic minima of a linear model, sparsity of L0/L1, peers."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import ATTACKS, FMN

NORMS = ("l0", "l1", "l2", "linf")


@pytest.fixture(scope="module")
def fmn_results(digits_mlp):
    """One 100-step run per norm, shared by the tests that only read them."""
    model, x, y = digits_mlp
    return {norm: FMN(norm=norm, steps=100)(model, x, y) for norm in NORMS}


@pytest.mark.parametrize("norm", NORMS)
def test_finds_adversarials_for_correctly_classified_inputs(digits_mlp, fmn_results, norm):
    model, x, y = digits_mlp
    result = fmn_results[norm]
    correct = result.clean_predictions == y
    assert result.success[0][correct].float().mean() >= 0.95
    assert torch.all(result.min_distances[~correct] == 0)
    ok = result.success[0]
    assert torch.allclose(result.min_distances[ok], result.distances[norm][0][ok], atol=1e-5)
    assert model.bounds.contains(result.adversarials[0]).all()


def test_l0_and_l1_versions_are_sparse(fmn_results):
    l0, l1, l2 = fmn_results["l0"], fmn_results["l1"], fmn_results["l2"]
    assert l0.median_distance("l0") < 0.25 * l2.median_distance("l0")
    assert l1.median_distance("l1") < l2.median_distance("l1")
    assert l1.median_distance("l0") < l2.median_distance("l0")
    # L0 distances are pixel counts.
    finite = l0.min_distances[torch.isfinite(l0.min_distances)]
    assert torch.equal(finite, finite.round())


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_linear_model_minimum(linear_problem, norm):
    model, x, y, minima = linear_problem
    result = FMN(norm=norm, steps=100)(model, x, y)
    ratio = result.min_distances / minima[norm]
    assert result.success.all()
    assert ratio.min() >= 1 - 1e-4  # nothing beats the analytic minimum
    assert ratio.median() <= 1.03


def test_targeted_hits_the_target(digits_mlp):
    model, x, y = digits_mlp
    target = (y + 3) % 10
    result = FMN(norm="l2", steps=100)(model, x[:16], y[:16], target=target[:16])
    assert result.success_rate[0] >= 0.9
    ok = result.success[0]
    assert (result.predictions[0][ok] == target[:16][ok]).all()


def test_same_seed_same_result(digits_mlp):
    model, x, y = digits_mlp
    attack = FMN(norm="l1", steps=20)
    a, b = attack(model, x[:8], y[:8], seed=5), attack(model, x[:8], y[:8], seed=5)
    assert torch.equal(a.adversarials, b.adversarials)


def test_converted_sklearn_logistic_regression(digits_logistic_regression):
    model, ds = digits_logistic_regression
    x, y = ds.x_test[:16].flatten(1), ds.y_test[:16]
    result = FMN(norm="linf", steps=50)(model, x, y)
    assert result.success_rate[0] >= 0.9
    assert torch.isfinite(result.min_distances).sum() == result.success[0].sum()


def test_registered_and_validated():
    attack = ATTACKS.create("fmn", norm="linf", steps=10)
    assert isinstance(attack, FMN) and attack.norm.name == "linf" and attack.steps == 10
    assert attack.alpha_final == pytest.approx(attack.alpha_init / 100)
    for bad in ({"norm": "l3"}, {"steps": 0}, {"alpha_init": 0.0}, {"gamma_init": 1.0}, {"gamma_final": -0.1}):
        with pytest.raises(ValueError):
            FMN(**bad)


# --- cross-checks against Foolbox's FMN ---------------------------------------------------------
def _foolbox_minimal(fb, attack, model, x, y, ord):
    keep = model.predict(x) == y
    x, y = x[keep], y[keep]
    _, adv, ok = attack(fb.PyTorchModel(model.eval(), bounds=(0, 1)), x, y, epsilons=None)
    return keep, torch.linalg.vector_norm((adv - x).flatten(1), ord=ord, dim=1), ok


@pytest.mark.peer
def test_linf_matches_foolbox(digits_mlp, fmn_results):
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_mlp
    keep, theirs, ok = _foolbox_minimal(fb, fb.attacks.LInfFMNAttack(steps=100), model, x, y, float("inf"))
    ours = fmn_results["linf"].min_distances[keep]
    both = ok & torch.isfinite(ours)
    assert both.float().mean() >= 0.9
    assert 0.85 <= (ours[both].median() / theirs[both].median()).item() <= 1.15


@pytest.mark.peer
def test_l2_no_worse_than_foolbox(digits_mlp, fmn_results):
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_mlp
    keep, theirs, ok = _foolbox_minimal(fb, fb.attacks.L2FMNAttack(steps=100), model, x, y, 2)
    ours = fmn_results["l2"].min_distances[keep]
    both = ok & torch.isfinite(ours)
    assert both.float().mean() >= 0.9
    # Foolbox 3.3's L2 projection is a no-op (factor = norms / norms), so its FMN-L2 never
    # shrinks δ onto the ε-ball and stops farther out; ours must be at least as small.
    assert ours[both].median() <= 1.15 * theirs[both].median()


def test_adversarial_init_finds_what_a_stalled_run_misses(digits_mlp):
    """Two FMN steps cannot reach the boundary from x; restarting from an adversarial (APGD at a growing
    radius, or the segment towards another class) finds one for every correctly classified input."""
    model, x, y = digits_mlp
    stalled = FMN(norm="linf", steps=2, adversarial_init=False)(model, x, y, seed=0)
    fixed = FMN(norm="linf", steps=2)(model, x, y, seed=0)
    correct = fixed.clean_predictions == y
    assert torch.isfinite(stalled.min_distances[correct]).float().mean() < 0.5
    assert torch.isfinite(fixed.min_distances[correct]).float().mean() >= 0.99
    ok = fixed.success[0]
    assert (fixed.distances["linf"][0][ok] <= fixed.min_distances[ok] + 1e-5).all()


@pytest.mark.parametrize("norm", ["l0", "l1"])
def test_adversarial_init_without_gradients_for_sparse_norms(digits_mlp, norm):
    model, x, y = digits_mlp
    fixed = FMN(norm=norm, steps=2)(model, x[:16], y[:16], seed=0)
    correct = fixed.clean_predictions == y[:16]
    assert torch.isfinite(fixed.min_distances[correct]).all()
