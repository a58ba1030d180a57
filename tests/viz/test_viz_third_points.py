"""Third points for slices: grey, random image, random perturbation, attacks, seeds, other models, data points."""

from __future__ import annotations

import pytest
import torch

import advlab
from advlab.attacks import ATTACKS
from advlab.cli.third_point_spec import parse_third_point
from advlab.models import build
from advlab.runs import save_run
from advlab.viz.third_points import (
    Grey,
    OtherAttack,
    OtherModel,
    OtherSeed,
    RandomImage,
    RandomPerturbation,
    adversarial_of,
    third_point,
)

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def model(seeded_mlp):
    return seeded_mlp(SHAPE, classes=3, widths=[8])


@pytest.fixture(scope="module")
def a():
    # an interior image, so perturbations are not clipped
    return 0.3 + 0.4 * torch.rand(SHAPE, generator=torch.Generator().manual_seed(1))


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_grey_is_the_centre_of_the_box(model, a):
    c = third_point(Grey(), model, a)
    assert c.shape == SHAPE and torch.allclose(c, torch.full(SHAPE, 0.5))


def test_random_image_is_in_the_box_and_deterministic_by_generator(model, a):
    c1, c2, c3 = (third_point(RandomImage(), model, a, generator=gen(s)) for s in (3, 3, 4))
    assert torch.equal(c1, c2) and not torch.equal(c1, c3)
    assert bool(model.bounds.contains(c1[None]).item()) and float(c1.std()) > 0.1


def test_random_draws_leave_the_global_generator_alone(model, a):
    torch.manual_seed(0)
    before = torch.rand(3)
    torch.manual_seed(0)
    third_point(RandomImage(), model, a, generator=gen(1))
    third_point(RandomPerturbation(size=0.1), model, a, generator=gen(1))
    assert torch.equal(torch.rand(3), before)


@pytest.mark.parametrize("norm,p", [("linf", float("inf")), ("l2", 2.0), ("l1", 1.0)])
def test_random_perturbation_has_the_requested_norm_and_size(model, a, norm, p):
    c = third_point(RandomPerturbation(size=0.1, norm=norm), model, a, generator=gen(0))
    assert float(torch.linalg.vector_norm((c - a).flatten(), ord=p)) == pytest.approx(0.1, rel=1e-4)
    assert not torch.equal(c, third_point(RandomPerturbation(size=0.1, norm=norm), model, a, generator=gen(1)))


def test_random_perturbation_is_clipped_to_the_box(model):
    corner = torch.zeros(SHAPE)
    c = third_point(RandomPerturbation(size=0.5, norm="linf"), model, corner, generator=gen(0))
    assert bool(model.bounds.contains(c[None]).item()) and set(c.unique().tolist()) <= {0.0, 0.5}


def test_attack_and_seed_strategies_give_adversarials_of_a(model, a):
    b = adversarial_of(model, a, "pgd", eps=0.3, seed=0)
    c_fgsm = third_point(OtherAttack(ATTACKS.create("fgsm"), eps=0.3), model, a, b)
    expected = ATTACKS.create("fgsm")(model, a[None], eps=0.3).adversarials[0, 0]
    assert torch.allclose(c_fgsm, expected)
    pgd = ATTACKS.create("pgd", random_start=True)
    c_seed = third_point(OtherSeed(7), model, a, b, attack=pgd, eps=0.3)
    assert float((c_seed - a).abs().max()) <= 0.3 + 1e-6 and not torch.equal(c_seed, b)
    assert torch.equal(c_seed, third_point(OtherSeed(7), model, a, b, attack=ATTACKS.create("pgd", random_start=True), eps=0.3))


def test_other_model_strategy_attacks_the_other_model(model, a):
    torch.manual_seed(5)
    other = build("mlp", input_shape=SHAPE, classes=3, widths=[8])
    c = third_point(OtherModel(other), model, a, attack=ATTACKS.create("fgsm"), eps=0.2)
    expected = ATTACKS.create("fgsm")(other, a[None], eps=0.2).adversarials[0, 0]
    assert torch.allclose(c, expected)


def test_explicit_tensor_is_checked(model, a):
    c = torch.full(SHAPE, 0.2)
    assert torch.equal(third_point(c, model, a), c)
    with pytest.raises(ValueError, match="outside the model's bounds"):
        third_point(torch.full(SHAPE, 2.0), model, a)
    with pytest.raises(ValueError, match="shaped"):
        third_point(torch.zeros(3, 3), model, a)


@pytest.mark.parametrize(
    "strategy,kwargs,error,message",
    [
        ("purple", {}, TypeError, "strategy must be one of"),
        (OtherSeed(1), {"eps": 0.1}, ValueError, "needs an attack"),
        (OtherAttack(ATTACKS.create("pgd")), {}, ValueError, "needs eps"),
        (RandomPerturbation(size=-1.0), {}, ValueError, "positive"),
        (RandomPerturbation(size=0.1, norm="l0"), {}, ValueError, "norm must be"),
    ],
)
def test_clear_errors(model, a, strategy, kwargs, error, message):
    with pytest.raises(error, match=message):
        third_point(strategy, model, a, **kwargs)


def test_cli_strings_become_objects(model, tmp_path):
    data = type("D", (), {"x_test": torch.rand(5, *SHAPE, generator=gen(2))})()
    assert parse_third_point("grey") == Grey() and parse_third_point("random-image") == RandomImage()
    assert parse_third_point("random-perturbation", size=2.0, norm="l1") == RandomPerturbation(2.0, "l1")
    assert parse_third_point("seed:4") == OtherSeed(4)
    assert torch.equal(parse_third_point("image:3", data=data), data.x_test[3])
    other = parse_third_point("attack:fgsm", eps=0.2)
    assert isinstance(other, OtherAttack) and other.attack.name == "fgsm" and other.eps == 0.2
    torch.manual_seed(5)
    saved = build("mlp", input_shape=SHAPE, classes=3, widths=[8])
    save_run(tmp_path / "other", saved, {"name": "digits"})
    loaded = parse_third_point(f"model:{tmp_path / 'other'}")
    assert isinstance(loaded, OtherModel)
    assert torch.equal(loaded.model.logits(data.x_test), advlab.load(tmp_path / "other" / "model.safetensors").logits(data.x_test))


@pytest.mark.parametrize(
    "text,kwargs,message",
    [
        ("purple", {}, "unknown third point"),
        ("seed:x", {}, "integer"),
        ("image:2", {}, "needs the run's dataset"),
        ("image:99", {"data": type("D", (), {"x_test": torch.rand(3, *SHAPE)})()}, "out of range"),
        ("attack:nope", {}, "unknown attack"),
        ("random-perturbation", {}, "needs --size"),
    ],
)
def test_cli_strings_clear_errors(text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        parse_third_point(text, **kwargs)
