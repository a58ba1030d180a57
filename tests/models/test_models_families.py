"""Maxout, RBF and ensemble families: structure, the behaviour that defines them, save/load."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from advlab import data
from advlab.models import Classifier, Maxout, build, ensemble_member, ensemble_members, load, make_ensemble, save, wrap
from advlab.models.rbf import RBFHead, init_rbf_from_data
from advlab.train import FGSMAdversarial, fit


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", quiet=True)


def _build(family, seed=0, input_shape=(1, 8, 8), classes=10, **options):
    torch.manual_seed(seed)
    return build(family, input_shape=input_shape, classes=classes, **options)


# maxout ---------------------------------------------------------------------------------------------------------


def test_maxout_default_is_the_papers_mnist_net():
    model = _build("maxout", input_shape=(1, 28, 28))
    net = model.net
    assert isinstance(net, Classifier)
    maxouts = [m for m in net.features if isinstance(m, Maxout)]
    dropouts = [m.p for m in net.features if isinstance(m, nn.Dropout)]
    assert [(m.units, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    assert maxouts[0].linear.in_features == 784
    assert dropouts == [0.2, 0.5, 0.5]
    assert net.head.in_features == 240 and net.head.out_features == 10
    big = _build("maxout", input_shape=(1, 28, 28), units=1600)
    assert [m.units for m in big.net.features if isinstance(m, Maxout)] == [1600, 1600]


def test_maxout_unit_is_max_over_its_pieces():
    layer = Maxout(6, units=3, pieces=4)
    x = torch.randn(5, 6)
    pieces = layer.linear(x).view(5, 3, 4)
    torch.testing.assert_close(layer(x), pieces.max(dim=2).values)


def test_maxout_dropout_only_in_train_mode(digits):
    model = _build("maxout", units=16, pieces=3)
    x = digits.x_test[:20]
    torch.testing.assert_close(model.logits(x), model.logits(x))  # eval: deterministic
    model.train()
    torch.manual_seed(0)
    a = model(x)
    b = model(x)
    assert not torch.allclose(a, b)


def test_maxout_learns_digits_and_refuses_bad_options(digits):
    model = _build("maxout", units=32, pieces=3, layers=1)
    history = fit(model, digits, epochs=5, lr=1e-2, batch_size=64, quiet=True)
    assert history.last.test_accuracy > 0.85
    with pytest.raises(ValueError, match="pieces"):
        _build("maxout", pieces=0)
    with pytest.raises(ValueError, match="dropout"):
        _build("maxout", dropout=1.0)


# rbf ------------------------------------------------------------------------------------------------------------


def _hand_rbf():
    """Two classes in 2-D with prototypes at (0, 0) and (1, 1), β = 20 on the mean squared distance, bias 5."""
    model = _build("rbf", input_shape=(2,), classes=["a", "b"], bounds=(-100.0, 100.0))
    head = model.net.head
    with torch.no_grad():
        head.prototypes.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
        head.log_beta.fill_(math.log(20.0))
        head.bias.fill_(5.0)
    return model


def test_rbf_probabilities_follow_the_reject_formula():
    model = _hand_rbf()
    x = torch.tensor([[0.2, -0.1], [3.0, 2.0]])
    msd = torch.cdist(x, model.net.head.prototypes).pow(2) / 2
    e = torch.exp(-20.0 * msd + 5.0)
    expected = (e + 1 / 2) / (e.sum(1, keepdim=True) + 1)
    torch.testing.assert_close(model.predict_proba(x), expected)
    torch.testing.assert_close(model.logits(x).exp().sum(1), torch.ones(2))  # logits are normalised log-probabilities


def test_rbf_confidence_falls_far_from_its_prototypes():
    model = _hand_rbf()
    t = torch.tensor([0.0, 0.5, 1.0, 2.0, 5.0, 20.0, 80.0])
    # walk away from prototype "a" in the direction opposite to "b": a softmax over distances would grow MORE
    # confident in "a" here (the distance gap grows linearly); the reject score makes it fall to 1/K.
    x = -t[:, None] * torch.tensor([1.0, 1.0]) / math.sqrt(2)
    confidence = model.predict_proba(x).max(1).values
    assert confidence[0] > 0.99
    assert (confidence[1:] <= confidence[:-1] + 1e-6).all()
    assert confidence[-1] == pytest.approx(0.5, abs=1e-4)
    assert model.predict(x[:2]).tolist() == [0, 0]


def test_rbf_trained_on_digits_is_unsure_on_noise(digits):
    model = _build("rbf")
    init_rbf_from_data(model, digits.x_train, digits.y_train)
    head = model.net.head
    for k in (0, 7):  # one prototype per class: the class mean
        torch.testing.assert_close(head.prototypes[k], digits.x_train[digits.y_train == k].flatten(1).mean(0))
    fit(model, digits, epochs=3, lr=1e-2, quiet=True)
    assert (model.predict(digits.x_test) == digits.y_test).float().mean() > 0.85
    on_test = model.predict_proba(digits.x_test).max(1).values.median()
    noise = torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    on_noise = model.predict_proba(noise).max(1).values.median()
    assert on_test > 0.6 and on_noise < 0.15  # 1/K = 0.1: "no idea"


def test_rbf_several_prototypes_per_class(digits):
    model = _build("rbf", per_class=3)
    assert isinstance(model.net.head, RBFHead) and model.net.head.prototypes.shape == (30, 64)
    init_rbf_from_data(model, digits.x_train, digits.y_train)
    assert (model.predict(digits.x_train) == digits.y_train).float().mean() > 0.6
    with pytest.raises(ValueError, match="per_class"):
        _build("rbf", per_class=0)


# ensemble -------------------------------------------------------------------------------------------------------


def _members():
    return [_build("mlp", seed=1, widths=[16]), _build("softmax", seed=2), _build("rbf", seed=3)]


def test_ensemble_probabilities_are_the_members_average(digits):
    members = _members()
    ens = make_ensemble(members)
    x = digits.x_test[:50]
    average = torch.stack([m.predict_proba(x) for m in members]).mean(0)
    torch.testing.assert_close(ens.predict_proba(x), average)
    torch.testing.assert_close(ens.logits(x).exp().sum(1), torch.ones(50))  # forward = log of the average
    assert len(ens.net.members) == 3 and ens.spec["family"] == "ensemble"


def test_ensemble_members_are_models_sharing_weights(digits):
    members = _members()
    ens = make_ensemble(members)
    one = ensemble_member(ens, 1)
    assert one.bounds is ens.bounds and one.classes == ens.classes and one.input_shape == ens.input_shape
    assert one.spec["family"] == "softmax" and one.net is members[1].net
    torch.testing.assert_close(one.logits(digits.x_test[:5]), members[1].logits(digits.x_test[:5]))
    assert [m.spec["family"] for m in ensemble_members(ens)] == ["mlp", "softmax", "rbf"]
    with pytest.raises(ValueError, match="index"):
        ensemble_member(ens, 3)


def test_ensemble_is_differentiable_end_to_end(digits):
    ens = make_ensemble(_members())
    x = digits.x_test[:4].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(ens(x)[:, 0].sum(), x)
    assert g.abs().sum() > 0


def test_ensemble_save_load_round_trips_members_and_their_training(digits, tmp_path):
    members = _members()
    fit(members[0], digits, method=FGSMAdversarial(0.1), epochs=1, quiet=True)
    ens = make_ensemble(members)
    loaded = load(save(ens, tmp_path / "ens.safetensors"))
    torch.testing.assert_close(loaded.logits(digits.x_test), ens.logits(digits.x_test))
    assert loaded.spec["options"]["members"][0]["training"]["method"] == "fgsm"
    assert ensemble_member(loaded, 0).spec["training"]["eps"] == pytest.approx(0.1)
    assert ensemble_member(loaded, 2).spec["family"] == "rbf"


def test_ensemble_from_specs_builds_and_trains(digits):
    ens = _build("ensemble", members=[{"family": "mlp", "options": {"widths": [16]}}, {"family": "softmax"}])
    history = fit(ens, digits, epochs=3, lr=1e-2, batch_size=64, quiet=True)
    assert history.last.test_accuracy > 0.8


def test_ensemble_refuses_mismatched_or_unbuildable_members():
    with pytest.raises(ValueError, match="classes"):
        make_ensemble([_build("softmax"), _build("softmax", classes=5)])
    with pytest.raises(ValueError, match="bounds"):
        make_ensemble([_build("softmax"), _build("softmax", bounds=(0.0, 255.0))])
    with pytest.raises(ValueError, match="at least one"):
        make_ensemble([])
    with pytest.raises(ValueError, match="unknown model"):
        _build("ensemble", members=[{"family": "nope"}])
    with pytest.raises(ValueError, match="dtype"):
        make_ensemble([_build("softmax"), _build("softmax").double()])
    custom = wrap(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), bounds=(0, 1), classes=10, input_shape=(1, 8, 8))
    assert make_ensemble([custom, _build("softmax")]).spec["family"] == "custom"  # works, but save refuses it


# save/load of the families --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "options"), [("maxout", {"units": 8, "pieces": 2}), ("rbf", {"per_class": 2})])
def test_family_save_load_keeps_family_options_method_and_outputs(digits, tmp_path, family, options):
    model = _build(family, **options)
    fit(model, digits, method=FGSMAdversarial(0.1), epochs=1, quiet=True)
    loaded = load(save(model, tmp_path / "m.safetensors"))
    assert loaded.spec["family"] == family and loaded.spec["options"] == options
    assert loaded.spec["training"]["method"] == "fgsm"
    torch.testing.assert_close(loaded.logits(digits.x_test), model.logits(digits.x_test))
