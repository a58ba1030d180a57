"""The attack template: verification against lying attacks, input validation, seeds and batching."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch

from advlab import attacks, models
from advlab.attacks.base import Attack


@pytest.fixture(scope="module")
def digits_linear(digits_logistic_regression):
    """Multinomial logistic regression on digits (exactly converted) and 60 test inputs."""
    flat, ds = digits_logistic_regression
    # Same weights behind the image-shaped input the attacks see.
    net = torch.nn.Sequential(torch.nn.Flatten(), flat.net)
    model = models.wrap(net, bounds=(0.0, 1.0), classes=ds.class_names, input_shape=ds.input_shape)
    return model, ds.x_test[:60], ds.y_test[:60]


class ReturnsInput(Attack):
    """Claims nothing, changes nothing."""

    name: ClassVar[str] = "returns-input"

    def run(self, model, x, y, *, eps, target, generator):
        return x.clone()


class Overshoots(Attack):
    """Returns points far outside the ε-ball and the bounds, and NaNs."""

    name: ClassVar[str] = "overshoots"

    def run(self, model, x, y, *, eps, target, generator):
        out = x + 10.0 * torch.randn(x.shape, generator=generator).sign()
        out[:, 0, 0, 0] = float("nan")
        return out


class MinimalOvershoots(Overshoots):
    name: ClassVar[str] = "minimal-overshoots"
    minimization: ClassVar[bool] = True


def test_unchanged_inputs_never_count_as_success(digits_linear) -> None:
    model, x, y = digits_linear
    correct = model.predict(x) == y
    result = ReturnsInput()(model, x, y, eps=[0.1, 0.5])
    assert not result.success[:, correct].any()
    assert result.success[:, ~correct].all()  # already misclassified inputs are adversarial at any ε


@pytest.mark.parametrize("norm", ["linf", "l2", "l1"])
def test_results_are_clipped_into_bounds_and_ball(digits_linear, norm: str) -> None:
    model, x, y = digits_linear
    eps = [0.05, 0.3, 2.0]
    result = Overshoots(norm)(model, x, y, eps=eps, seed=0)
    adv = result.adversarials
    assert torch.isfinite(adv).all()
    assert ((adv >= 0) & (adv <= 1)).all()
    for k, e in enumerate(eps):
        assert (result.distances[norm][k] <= e * (1 + 1e-5) + 1e-6).all()
    # success is what the model says about the returned points, not a claim
    preds = torch.stack([model.predict(a) for a in adv])
    assert torch.equal(result.success, preds != y[None])


def test_minimisation_results_are_verified(digits_linear) -> None:
    model, x, y = digits_linear
    result = MinimalOvershoots("l2")(model, x, y, eps=[0.5, 100.0], seed=0)
    preds = model.predict(result.adversarials[1])
    assert torch.equal(result.success[1], preds != y)
    correct = model.predict(x) == y
    finite = torch.isfinite(result.min_distances)
    assert torch.equal(finite[correct], (preds != y)[correct])
    # at ε = 0.5 none of these far points fits: the clean input comes back, success only where already wrong
    assert torch.equal(result.success[0], model.predict(x) != y)


@pytest.mark.parametrize(
    "attack",
    [attacks.FGSM(), attacks.BIM(), attacks.PGD(random_start=False), attacks.PGD("l2", random_start=False), attacks.DeepFool()],
    ids=repr,
)
def test_batch_size_splits_give_identical_results(digits_linear, attack: Attack) -> None:
    model, x, y = digits_linear
    eps = None if attack.minimization else [0.1, 0.3]
    whole = attack(model, x, y, eps=eps)
    split = attack(model, x, y, eps=eps, batch_size=7)
    torch.testing.assert_close(whole.adversarials, split.adversarials, rtol=0, atol=1e-6)
    assert torch.equal(whole.success, split.success)


def test_same_seed_same_result_other_seed_other_start(digits_linear) -> None:
    model, x, y = digits_linear
    pgd = attacks.PGD(steps=5, restarts=2)
    a = pgd(model, x, y, eps=0.1, seed=3)
    b = pgd(model, x, y, eps=0.1, seed=3)
    c = pgd(model, x, y, eps=0.1, seed=4)
    assert torch.equal(a.adversarials, b.adversarials)
    assert not torch.equal(a.adversarials, c.adversarials)


def test_weights_are_restored_after_an_attack(digits_linear) -> None:
    model, x, y = digits_linear
    model.train()
    flags = [p.requires_grad for p in model.parameters()]
    attacks.PGD(steps=2)(model, x, y, eps=0.1, seed=0)
    assert model.training and [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    model.eval()


# --- validation ------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors(digits_linear) -> None:
    model, x, y = digits_linear
    pgd = attacks.PGD(steps=1)
    with pytest.raises(ValueError, match="shape"):
        pgd(model, x.flatten(1), y, eps=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        pgd(model, (x * 255).to(torch.uint8), y, eps=0.1)
    with pytest.raises(TypeError, match="torch.Tensor"):
        pgd(model, x.tolist(), y, eps=0.1)
    bad = x.clone()
    bad[3, 0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        pgd(model, bad, y, eps=0.1)
    with pytest.raises(ValueError, match="outside the model's bounds"):
        pgd(model, x * 2 - 0.5, y, eps=0.1)
    with pytest.raises(ValueError, match=r"0\.\.9"):
        pgd(model, x, y + 10, eps=0.1)
    with pytest.raises(ValueError, match="shape"):
        pgd(model, x, y[:5], eps=0.1)
    with pytest.raises(TypeError, match="integer class"):
        pgd(model, x, y.float(), eps=0.1)


def test_bad_eps_and_targets_raise(digits_linear) -> None:
    model, x, y = digits_linear
    with pytest.raises(ValueError, match="≥ 0"):
        attacks.FGSM()(model, x, y, eps=-0.1)
    with pytest.raises(ValueError, match="eps is required"):
        attacks.PGD()(model, x, y)
    with pytest.raises(ValueError, match="target equals the label"):
        attacks.PGD()(model, x, y, eps=0.1, target=y)
    with pytest.raises(ValueError, match="untargeted"):
        attacks.DeepFool()(model, x, y, target=(y + 1) % 10)


def test_black_box_model_is_refused_by_gradient_attacks(digits_linear) -> None:
    model, x, y = digits_linear
    box = models.wrap(lambda a: model.predict_proba(torch.as_tensor(a)).numpy(), bounds=(0, 1), classes=10, input_shape=(1, 8, 8))
    for attack in (attacks.FGSM(), attacks.PGD(), attacks.BIM(), attacks.DeepFool()):
        with pytest.raises(ValueError, match="black box"):
            attack(box, x, y, eps=0.1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: attacks.PGD(norm="l0"),
        lambda: attacks.PGD(norm="l7"),
        lambda: attacks.PGD(steps=0),
        lambda: attacks.PGD(stepsize=-0.1),
        lambda: attacks.PGD(rel_stepsize=float("nan")),
        lambda: attacks.PGD(restarts=3, random_start=False),
        lambda: attacks.PGD(loss="mse"),
        lambda: attacks.PGD(norm="l1", l1_sparsity=2.0),
        lambda: attacks.DeepFool(norm="l1"),
        lambda: attacks.DeepFool(candidates=1),
        lambda: attacks.DeepFool(overshoot=-1),
        lambda: attacks.ATTACKS.create("pgd", steps="many"),
    ],
)
def test_bad_configuration_raises(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_registry_names_and_config() -> None:
    assert {"fgsm", "bim", "pgd", "deepfool"} <= set(attacks.ATTACKS.names())
    pgd = attacks.ATTACKS.create("pgd", norm="l2", steps=7)
    assert isinstance(pgd, attacks.PGD) and pgd.norm.name == "l2" and pgd.steps == 7
    # Fewer steps than the 40 the defaults are made for get proportionally larger steps.
    assert pgd.config()["attack"] == "pgd" and pgd.config()["rel_stepsize"] == pytest.approx(0.1 * 40 / 7)
    assert attacks.ATTACKS.create("pgd", norm="l2", steps=40).config()["rel_stepsize"] == pytest.approx(0.1)
    assert attacks.ATTACKS.create("pgd", steps=100).config()["rel_stepsize"] == pytest.approx(0.01 / 0.3)
    assert attacks.PGD(stepsize=0.02).config()["stepsize"] == 0.02
    assert np.isclose(attacks.PGD().rel_stepsize, 0.01 / 0.3)


def test_minimisation_reports_distance_zero_for_inputs_already_misclassified():
    import torch

    from advlab.attacks.base import Attack
    from advlab.models import build

    class FarAway(Attack):
        """Returns the opposite corner of the box: adversarial or not, never minimal."""

        name = "far-away"
        minimization = True

        def run(self, model, x, y, *, eps, target, generator):
            return 1 - x

    torch.manual_seed(0)
    model = build("softmax", input_shape=(4,), classes=3)
    x = torch.rand(32, 4)
    pred = model.predict(x)
    wrong = (pred + 1) % 3  # labels the model gets wrong on every input
    result = FarAway(norm="l2")(model, x, wrong)
    assert torch.all(result.min_distances == 0)
    assert torch.equal(result.adversarials[0], x)
    assert result.success.all()
