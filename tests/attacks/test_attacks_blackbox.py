"""Decision- and score-based attacks: the peers' traps avoided, seeds honoured, black boxes and torch models alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advlab.attacks import (
    ATTACKS,
    FGSM,
    PGD,
    AdditiveNoise,
    BlendedNoise,
    Boundary,
    ContrastReduction,
    HopSkipJump,
    OnePixel,
    Pointwise,
    SaltAndPepper,
    Spatial,
    Square,
    SubstituteAttack,
    TransferAttack,
    train_substitute,
)
from advlab.attacks.spatial import transform
from advlab.models import Model, build, wrap

MINIMISATION = [
    lambda: Boundary(steps=100),
    lambda: HopSkipJump(steps=3),
    lambda: HopSkipJump(norm="linf", steps=3),
    lambda: Pointwise(),
    lambda: SaltAndPepper(steps=20),
    lambda: BlendedNoise(),
    lambda: ContrastReduction(),
    lambda: OnePixel(pixels=3, population=20, generations=5),
    lambda: Spatial(),
]
FIXED = [lambda: Square(steps=50), lambda: Square(norm="l2", steps=50), lambda: AdditiveNoise(repeats=10)]


@pytest.fixture(scope="module")
def small(digits_mlp):
    model, x, y = digits_mlp
    keep = model.predict(x) == y
    return model, x[keep][:12], y[keep][:12]


def _blackbox(model: Model) -> Model:
    def fn(a: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.as_tensor(a)).double(), dim=1).numpy()

    return wrap(fn, bounds=(0, 1), classes=model.classes, input_shape=model.input_shape)


@pytest.mark.parametrize("make", MINIMISATION + FIXED)
def test_already_misclassified_inputs_cost_one_query_and_no_nan(small, make):
    model, x, y = small
    attack = make()
    wrong = (y + 1) % 10  # every input is already "misclassified" under these labels
    eps = None if attack.minimization else [0.1]
    result = attack(model, x, wrong, eps=eps, seed=0)
    assert result.success.all()
    assert torch.isfinite(result.adversarials).all()
    assert (result.distances["l2"] == 0).all()
    assert (result.queries == 1).all()


@pytest.mark.parametrize("make", MINIMISATION + FIXED)
def test_same_seed_same_result_and_blackbox_equals_torch(small, make):
    model, x, y = small
    attack = make()
    eps = None if attack.minimization else [0.3] if attack.norm.name == "linf" else [2.0]
    a = make()(model, x, y, eps=eps, seed=7)
    b = make()(model, x, y, eps=eps, seed=7)
    c = make()(_blackbox(model), x, y, eps=eps, seed=7)
    assert torch.equal(a.adversarials, b.adversarials) and torch.equal(a.queries, b.queries)
    assert torch.allclose(a.adversarials, c.adversarials, atol=1e-5)
    assert a.success.any()  # each finds something on this weak model


def test_boundary_is_untargeted_unless_a_target_is_given(small):
    model, x, y = small
    result = Boundary(steps=200)(model, x, y, seed=0)
    assert not result.targeted and result.success.all()
    assert (result.predictions[0] != y).all()
    target = (y + 3) % 10
    targeted = Boundary(steps=200, init_directions=500)(model, x, y, target=target, seed=0)
    ok = targeted.success[0]
    assert ok.any() and (targeted.predictions[0][ok] == target[ok]).all()


def test_minimisation_answers_an_eps_curve_from_one_run(small):
    model, x, y = small
    one = HopSkipJump(steps=5)(model, x, y, seed=0)
    curve = HopSkipJump(steps=5)(model, x, y, eps=[0.5, 1.0, 2.0, 100.0], seed=0)
    d = one.min_distances
    for k, e in enumerate([0.5, 1.0, 2.0, 100.0]):
        assert torch.equal(curve.success[k], d <= e + 1e-6)
    assert torch.equal(curve.queries[0], curve.queries[3])


class _Binarised(nn.Module):
    """Inputs rounded to 0/1 inside the model: the gradient is zero almost everywhere."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.round(x))


def test_useless_gradients_stop_gradient_attacks_not_decision_based_ones(small):
    model, x, y = small
    masked = wrap(_Binarised(model), bounds=(0, 1), classes=model.classes, input_shape=model.input_shape)
    keep = masked.predict(x) == y
    x, y = x[keep], y[keep]
    assert len(x) >= 6
    for attack in (FGSM(), PGD(steps=20, random_start=False)):
        assert attack(masked, x, y, eps=0.3, seed=0).success_rate.item() == 0.0
    for attack in (Boundary(steps=300), HopSkipJump(steps=5), Pointwise()):
        assert attack(masked, x, y, seed=0).success_rate.item() == 1.0


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="linf"):
        Square(norm="l1")
    with pytest.raises(ValueError, match="L2"):
        Boundary(norm="linf")
    with pytest.raises(ValueError, match="max_queries"):
        Square(max_queries=0)
    with pytest.raises(ValueError, match="population"):
        OnePixel(population=2)
    with pytest.raises(ValueError, match="distribution"):
        AdditiveNoise(distribution="laplace")
    assert ATTACKS.create("hsj", norm="linf", max_queries=10).max_queries == 10


def test_onepixel_and_spatial_need_images():
    net = wrap(nn.Linear(4, 3), bounds=(0, 1), classes=3, input_shape=(4,))
    with pytest.raises(ValueError, match="images"):
        OnePixel(population=8, generations=2)(net, torch.rand(2, 4), seed=0)
    with pytest.raises(ValueError, match="images"):
        Spatial()(net, torch.rand(2, 4), seed=0)


def test_onepixel_changes_at_most_its_pixels(small):
    model, x, y = small
    result = OnePixel(pixels=2, population=30, generations=10)(model, x, y, seed=0)
    assert (result.distances["l0"] <= 2).all() and result.success.any()


def test_spatial_transform_is_a_pixel_shift_and_rotation():
    img = torch.rand(2, 1, 6, 6)
    shifted = transform(img, 0.0, 1.0, 0.0)
    assert torch.allclose(shifted[..., 1:], img[..., :-1], atol=1e-5) and (shifted[..., 0].abs() < 1e-5).all()
    quarter = transform(img, 90.0, 0.0, 0.0)
    assert torch.allclose(quarter, torch.rot90(img, k=-1, dims=(2, 3)), atol=1e-5) or torch.allclose(
        quarter, torch.rot90(img, k=1, dims=(2, 3)), atol=1e-5
    )


def test_transfer_from_the_model_itself_equals_the_white_box_attack(small):
    model, x, y = small
    pgd = PGD(steps=10)
    direct = pgd(model, x, y, eps=0.2, seed=0)
    sub = build("mlp", input_shape=model.input_shape, classes=model.classes, widths=[32])
    sub.load_state_dict(model.state_dict())
    moved = TransferAttack(sub, pgd)(model, x, y, eps=0.2, seed=0)
    assert torch.equal(moved.success, direct.success)
    assert (moved.queries == 0).all()  # the target is never asked


def test_substitute_training_spends_exactly_its_budget_and_learns_the_target(small):
    model, x, y = small
    from advlab.data import load

    ds = load("digits", quiet=True)
    sub = build("mlp", input_shape=model.input_shape, classes=model.classes, widths=[32])
    torch.manual_seed(0)
    trained = train_substitute(model, ds.x_test[:100], sub, rounds=3, epochs=30, lam=0.1, max_queries=250, seed=0)
    assert trained.queries == 250 and trained.sizes == [100, 200, 250]
    agree = (trained.model.predict(ds.x_test[100:400]) == model.predict(ds.x_test[100:400])).float().mean()
    assert agree > 0.5
    result = SubstituteAttack(epochs=5, rounds=2, max_queries=2)(model, x, y, eps=0.3, seed=0)
    assert (result.queries <= 2).all()
