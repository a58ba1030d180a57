"""Mixup, the noise-training controls and first-layer L1 decay: the losses they define."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advlab.models import build
from advlab.train import METHODS, L1WeightDecay, Mixup, SignNoise, StandardTraining, UniformNoise, fit
from advlab.train.regularizers import first_layer


def _model(input_shape=(1, 8, 8), family="mlp", **options):
    torch.manual_seed(0)
    return build(family, input_shape=input_shape, classes=10, **options)


def _batch(n=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def test_mixup_mixes_inputs_and_labels_with_the_same_partner():
    n = 16
    x = torch.eye(n).reshape(n, 1, 4, 4)  # input i is the i-th unit vector: its partner can be read back
    y = torch.arange(n)
    torch.manual_seed(0)
    x_mix, y_a, y_b, lam = Mixup(alpha=1.0).mix(x, y)
    flat = x_mix.reshape(n, n)
    assert 0 <= lam <= 1 and torch.equal(y_a, y)
    assert torch.equal(torch.sort(y_b).values, y)  # the second labels are a permutation of the batch's labels
    for i in range(n):
        j = int(y_b[i])
        expected = torch.zeros(n)
        expected[i] += lam
        expected[j] += 1 - lam
        torch.testing.assert_close(flat[i], expected)


def test_mixup_loss_is_the_lambda_weighted_label_mix():
    model = _model()
    x, y = _batch()
    method = Mixup(alpha=0.4)
    torch.manual_seed(3)
    x_mix, y_a, y_b, lam = method.mix(x, y)
    logits = model(x_mix)
    expected = lam * F.cross_entropy(logits, y_a) + (1 - lam) * F.cross_entropy(logits, y_b)
    torch.manual_seed(3)
    torch.testing.assert_close(method.batch_loss(model, x, y).loss, expected)


def test_mixup_lambda_follows_beta_alpha_alpha():
    x, y = _batch(8)
    g = torch.Generator().manual_seed(0)
    uniform = torch.tensor([Mixup(1.0).mix(x, y, g)[3] for _ in range(400)])
    peaked = torch.tensor([Mixup(0.1).mix(x, y, g)[3] for _ in range(400)])
    assert abs(uniform.mean().item() - 0.5) < 0.05 and abs(uniform.var().item() - 1 / 12) < 0.02
    assert ((peaked < 0.1) | (peaked > 0.9)).float().mean() > 0.6  # Beta(0.1, 0.1) puts most mass near 0 and 1


@pytest.mark.parametrize("method_cls", [SignNoise, UniformNoise])
def test_noise_controls_stay_within_eps_and_bounds(method_cls):
    model = _model()
    x, _ = _batch(256)
    torch.manual_seed(0)
    noisy = method_cls(0.2).perturb(model, x)
    assert ((noisy - x).abs() <= 0.2 + 1e-6).all()
    assert model.bounds.contains(noisy).all()


def test_sign_noise_is_plus_or_minus_eps_and_uniform_noise_spreads():
    model = _model()
    x = torch.full((256, 1, 8, 8), 0.5)  # interior: no clipping
    torch.manual_seed(0)
    sign = SignNoise(0.1).perturb(model, x) - x
    torch.testing.assert_close(sign.abs(), torch.full_like(x, 0.1))
    assert abs((sign > 0).float().mean().item() - 0.5) < 0.03
    uniform = UniformNoise(0.1).perturb(model, x) - x
    assert uniform.abs().max() <= 0.1 and uniform.std().item() == pytest.approx(0.1 / 3**0.5, rel=0.05)


@pytest.mark.parametrize("method_cls", [SignNoise, UniformNoise])
def test_noise_control_loss_mixes_clean_and_noisy_loss(method_cls):
    model = _model()
    x, y = _batch()
    standard = StandardTraining().batch_loss(model, x, y).loss
    assert torch.equal(method_cls(0.1, alpha=1.0).batch_loss(model, x, y).loss, standard)
    torch.manual_seed(5)
    noisy = method_cls(0.1).perturb(model, x)
    expected = 0.25 * standard + 0.75 * F.cross_entropy(model(noisy), y)
    torch.manual_seed(5)
    torch.testing.assert_close(method_cls(0.1, alpha=0.25).batch_loss(model, x, y).loss, expected)


def test_l1_adds_coeff_times_first_layer_l1_norm_and_its_gradient():
    model = _model(widths=[32, 16])
    x, y = _batch()
    w1 = model.net.features[2].weight  # Normalize, Flatten, then the first Linear
    assert first_layer(model) is model.net.features[2]
    loss = L1WeightDecay(0.01).batch_loss(model, x, y).loss
    standard = StandardTraining().batch_loss(model, x, y).loss
    torch.testing.assert_close(loss, standard + 0.01 * w1.abs().sum())
    (g_l1,) = torch.autograd.grad(loss, w1)
    (g_std,) = torch.autograd.grad(standard, w1)
    torch.testing.assert_close(g_l1 - g_std, 0.01 * w1.sign())


def test_l1_first_layer_is_the_first_conv_or_maxout_linear():
    cnn = _model((1, 28, 28), "cnn-small")
    assert first_layer(cnn) is cnn.net.features[1]
    maxout = _model((1, 8, 8), "maxout", units=8, pieces=2)
    assert first_layer(maxout) is maxout.net.features[3].linear
    with pytest.raises(ValueError, match="no Linear or Conv"):
        L1WeightDecay(0.01).batch_loss(_model(family="rbf"), *_batch())


def test_l1_shrinks_first_layer_weights_in_training():
    from advlab import data

    ds = data.load("digits", quiet=True)
    norms = {}
    for coeff in (0.0, 1e-3):
        model = _model()
        fit(model, ds, method=L1WeightDecay(coeff), epochs=2, lr=3e-3, quiet=True)
        norms[coeff] = first_layer(model).weight.abs().sum().item()
    assert norms[1e-3] < 0.7 * norms[0.0]


@pytest.mark.parametrize(("name", "options", "expected"), [
    ("mixup", {}, {"method": "mixup", "alpha": 1.0}),
    ("noise-sign", {"eps": 0.25}, {"method": "noise-sign", "eps": 0.25, "alpha": 0.5}),
    ("noise-uniform", {"eps": 0.25}, {"method": "noise-uniform", "eps": 0.25, "alpha": 0.5}),
    ("l1", {"coeff": 1e-4}, {"method": "l1", "coeff": 1e-4}),
])
def test_make_method_builds_each_by_name_with_full_config(name, options, expected):
    assert METHODS.create(name, **options).config() == expected


def test_bad_options_are_refused_with_the_method_name():
    with pytest.raises(ValueError, match="mixup"):
        METHODS.create("mixup", eps=0.1)  # mixup has no ε
    with pytest.raises(ValueError, match="alpha"):
        Mixup(alpha=0.0)
    with pytest.raises(ValueError, match="eps"):
        SignNoise(-1.0)
    with pytest.raises(ValueError, match="coeff"):
        L1WeightDecay(float("inf"))
