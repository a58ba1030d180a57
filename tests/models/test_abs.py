"""The ABS model: architecture, batched inference against the per-image reference, probabilities,
save/load, binary mode, training and the certified bound."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from advlab.attacks import DDN, LatentDescent
from advlab.models import build, load, save
from advlab.models.abs import MODES, InferenceSettings, abs_mode, abs_net
from advlab.models.abs_bound import certified_l2
from advlab.models.abs_reference import reference_elbos
from advlab.models.abs_vae import ClassVAE, StackedDecoder, gaussian_bank

from .abs_fixtures import small_abs


@pytest.fixture(scope="module")
def trained(shared_data_dir: Path):
    return small_abs(shared_data_dir)


def _random_abs(**options):
    torch.manual_seed(0)
    m = build("abs", input_shape=(1, 28, 28), classes=10, bank_size=200, **options)
    for v in m.net.vaes:  # give batch norm non-trivial running statistics
        v.train()
        with torch.no_grad():
            v.decode(torch.randn(64, 8) * 2)
    return m.eval()


def test_vae_architecture_as_the_authors():
    v = ClassVAE()
    assert 80_000 < sum(p.numel() for p in v.parameters()) < 90_000  # "about 85k parameters"
    mu, logvar = v.encode(torch.rand(2, 1, 28, 28))
    assert mu.shape == logvar.shape == (2, 8)
    out = v.decode(torch.randn(5, 8))
    assert out.shape == (5, 1, 28, 28) and out.min() >= 0 and out.max() <= 1


def test_bank_is_the_most_probable_draws():
    bank = gaussian_bank(8000, 8)
    assert bank.shape == (8000, 8)
    g = torch.Generator().manual_seed(7)
    draws = torch.randn(8888, 8, generator=g)  # int(8000 / 0.9) draws, as the authors
    norms = (draws**2).sum(1).sort().values
    assert torch.allclose((bank**2).sum(1).sort().values, norms[:8000])


def test_stacked_decoder_equals_each_class_decoder():
    m = _random_abs()
    vaes = list(m.net.vaes)
    z = torch.randn(4, 10, 8)
    with torch.no_grad():
        ref = torch.stack([vaes[c].decode(z[:, c]) for c in range(10)], 1)
        assert torch.allclose(StackedDecoder(vaes)(z), ref, atol=1e-5)


def test_batched_inference_equals_per_image_reference():
    m = _random_abs()
    x = torch.rand(3, 1, 28, 28) * 0.5
    s = InferenceSettings(steps=6)
    fast = m.net.infer(x, settings=s).elbos
    assert torch.allclose(fast, reference_elbos(m.net, x, s), atol=1e-5)


def test_probabilities_are_the_confidence_softmax():
    m = _random_abs()
    x = torch.rand(2, 1, 28, 28)
    elbos = m.net.infer(x).elbos
    e = torch.exp(-440 * elbos) + 3.9e-5
    assert torch.allclose(m.predict_proba(x), e / e.sum(1, keepdim=True), atol=1e-6)
    # far from any digit the scores are large and the confidence is low (the η floor)
    assert m.predict_proba(torch.rand(4, 1, 28, 28)).max() < 0.5


def test_save_load_round_trip(tmp_path: Path):
    m = _random_abs(radius=4.0)
    x = torch.rand(2, 1, 28, 28)
    p = save(m, tmp_path / "abs.safetensors")
    back = load(p)
    assert back.spec["family"] == "abs" and back.spec["options"]["radius"] == 4.0
    assert torch.allclose(back.logits(x), m.logits(x), atol=1e-5)


def test_binary_abs_binarises_and_scales():
    m = _random_abs(binary=True)
    assert torch.allclose(m.net.scalings[:4], torch.tensor([1.0, 0.96, 1.001, 1.06]))
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(m.logits(x), m.logits((x > 0.5).float()))


def test_modes_and_bad_options():
    m = _random_abs()
    with abs_mode(m, "fast"):
        assert abs_net(m).settings == MODES["fast"]
    assert abs_net(m).settings == MODES["faithful"]
    with pytest.raises(ValueError, match="mode"):
        build("abs", input_shape=(1, 28, 28), classes=10, mode="turbo")
    with pytest.raises(ValueError, match="28"):
        build("abs", input_shape=(1, 32, 32), classes=10)
    with pytest.raises(TypeError, match="ABS"):
        abs_net(build("softmax", input_shape=(4,), classes=3))


def test_training_learns_and_classifies(trained):
    model, x, y = trained
    assert (model.predict(x) == y).float().mean() >= 0.85


def test_certified_bound_is_never_beaten(trained):
    model, x, y = trained
    with abs_mode(model, InferenceSettings(steps=20)):
        correct = model.predict(x) == y
        x, y = x[correct][:10], y[correct][:10]
        bound = certified_l2(model, x)
        assert (bound > 0).all() and torch.isfinite(bound).all()
        found = [LatentDescent(steps=30, stepsize=0.1)(model, x, y).min_distances,
                 DDN(steps=30)(model, x, y).min_distances]
        for dist in found:
            assert (dist >= bound - 1e-4).all(), (dist, bound)
        # random directions at 99% of the bound never flip the decision either
        d = torch.randn_like(x)
        d = d / d.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1) * (0.99 * bound).reshape(-1, 1, 1, 1)
        assert torch.equal(model.predict(x + d), y)


def test_certified_bound_rejects_binary():
    with pytest.raises(ValueError, match="binar"):
        certified_l2(_random_abs(binary=True), torch.rand(1, 1, 28, 28))


def test_bound_formula_closed_form():
    from advlab.models.abs_bound import _radius

    # no prior term reachable (P = 0): the radius is (d_c − d_y)/2 for d = √s and r_y = d_y
    s_y, s_c = torch.tensor([4.0]), torch.tensor([[16.0]])
    eps = _radius(s_y, s_y.sqrt(), s_c, 0.0, 80)
    assert math.isclose(eps.item(), (4.0 - 2.0) / 2, rel_tol=1e-5)


def test_latent_descent_fools_abs_and_targets(trained):
    model, x, y = trained
    x, y = x[:8], y[:8]
    res = LatentDescent(steps=30, stepsize=0.1)(model, x, y)
    clean = res.clean_predictions == y
    assert res.success[0][clean].all()
    assert torch.equal(model.predict(res.adversarials[0][clean]) != y[clean], torch.ones(int(clean.sum()), dtype=torch.bool))
    target = (y + 1) % 3
    tres = LatentDescent(steps=30, stepsize=0.1)(model, x, y, target=target)
    assert tres.success[0].float().mean() >= 0.75
    assert (model.predict(tres.adversarials[0])[tres.success[0]] == target[tres.success[0]]).all()


def test_latent_descent_needs_abs():
    with pytest.raises(TypeError, match="ABS"):
        LatentDescent()(build("softmax", input_shape=(1, 28, 28), classes=3), torch.rand(2, 1, 28, 28))
