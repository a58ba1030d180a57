"""Third points for slices: grey, random image, random perturbation, attacks, seeds, other models, data points."""

from __future__ import annotations

import pytest
import torch

import advlab
from advlab.attacks import ATTACKS
from advlab.models import build
from advlab.runs import save_run
from advlab.viz.third_points import STRATEGIES, adversarial_of, third_point

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def model(seeded_mlp):
    return seeded_mlp(SHAPE, classes=3, widths=[8])


@pytest.fixture(scope="module")
def a():
    # an interior image, so perturbations are not clipped
    return 0.3 + 0.4 * torch.rand(SHAPE, generator=torch.Generator().manual_seed(1))


def test_grey_is_the_centre_of_the_box(model, a):
    c = third_point("grey", model, a)
    assert c.shape == SHAPE and torch.allclose(c, torch.full(SHAPE, 0.5))


def test_random_image_is_in_the_box_and_deterministic_by_seed(model, a):
    c1, c2, c3 = (third_point("random-image", model, a, seed=s) for s in (3, 3, 4))
    assert torch.equal(c1, c2) and not torch.equal(c1, c3)
    assert bool(model.bounds.contains(c1[None]).item()) and float(c1.std()) > 0.1


@pytest.mark.parametrize("norm,p", [("linf", float("inf")), ("l2", 2.0), ("l1", 1.0)])
def test_random_perturbation_has_the_requested_norm_and_size(model, a, norm, p):
    c = third_point("random-perturbation", model, a, norm=norm, size=0.1, seed=0)
    assert float(torch.linalg.vector_norm((c - a).flatten(), ord=p)) == pytest.approx(0.1, rel=1e-4)
    assert not torch.equal(c, third_point("random-perturbation", model, a, norm=norm, size=0.1, seed=1))


def test_random_perturbation_is_clipped_to_the_box(model):
    corner = torch.zeros(SHAPE)
    c = third_point("random-perturbation", model, corner, norm="linf", size=0.5, seed=0)
    assert bool(model.bounds.contains(c[None]).item()) and set(c.unique().tolist()) <= {0.0, 0.5}


def test_attack_and_seed_strategies_give_adversarials_of_a(model, a):
    b = adversarial_of(model, a, "pgd", eps=0.3, seed=0)
    c_fgsm = third_point("attack:fgsm", model, a, b, eps=0.3)
    expected = ATTACKS.create("fgsm")(model, a[None], eps=0.3).adversarials[0, 0]
    assert torch.allclose(c_fgsm, expected)
    c_seed = third_point("seed:7", model, a, b, attack="pgd", eps=0.3)
    assert float((c_seed - a).abs().max()) <= 0.3 + 1e-6 and not torch.equal(c_seed, b)
    assert torch.equal(c_seed, third_point("seed:7", model, a, b, attack=ATTACKS.create("pgd"), eps=0.3))


def test_image_and_model_strategies(model, a, tmp_path):
    data = torch.rand(5, *SHAPE, generator=torch.Generator().manual_seed(2))
    assert torch.equal(third_point("image:3", model, a, data=data), data[3])
    torch.manual_seed(5)
    other = build("mlp", input_shape=SHAPE, classes=3, widths=[8])
    save_run(tmp_path / "other", other, {"name": "digits"})
    c = third_point(f"model:{tmp_path / 'other'}", model, a, attack="fgsm", eps=0.2)
    expected = ATTACKS.create("fgsm")(advlab.load(tmp_path / "other" / "model.safetensors"), a[None], eps=0.2).adversarials[0, 0]
    assert torch.allclose(c, expected)


def test_explicit_tensor_is_checked(model, a):
    c = torch.full(SHAPE, 0.2)
    assert torch.equal(third_point(c, model, a), c)
    with pytest.raises(ValueError, match="outside the model's bounds"):
        third_point(torch.full(SHAPE, 2.0), model, a)
    with pytest.raises(ValueError, match="shaped"):
        third_point(torch.zeros(3, 3), model, a)


@pytest.mark.parametrize(
    "strategy,kwargs,message",
    [
        ("purple", {}, "unknown strategy"),
        ("seed:1", {"eps": 0.1}, "needs an attack"),
        ("seed:x", {"attack": "pgd", "eps": 0.1}, "integer"),
        ("image:2", {}, "needs data="),
        ("image:99", {"data": torch.rand(3, *SHAPE)}, "out of range"),
        ("attack:nope", {"eps": 0.1}, "unknown attack"),
        ("attack:pgd", {}, "needs eps"),
        ("random-perturbation", {"size": -1.0}, "positive"),
        ("random-perturbation", {"size": 0.1, "norm": "l0"}, "norm must be"),
    ],
)
def test_clear_errors(model, a, strategy, kwargs, message):
    with pytest.raises(ValueError, match=message):
        third_point(strategy, model, a, **kwargs)
    assert "grey" in STRATEGIES
