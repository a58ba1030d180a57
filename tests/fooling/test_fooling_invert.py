"""Hidden-space inversion and the noise-confidence measure."""

from __future__ import annotations

import pytest
import torch

from advlab.evaluate import NoiseConfidence, noise_confidence
from advlab.evaluate.noise_confidence import noise_inputs
from advlab.fooling import HiddenInversion, far_targets, nearest_distances
from advlab.models import build, init_rbf_from_data, make_ensemble
from advlab.models.parts import embed, feature_head

from .conftest import linear_model


def test_far_targets_in_more_dimensions_win_at_the_requested_distance():
    head = torch.nn.Linear(3, 3)
    with torch.no_grad():
        head.weight.copy_(torch.eye(3))
        head.bias.zero_()
    hidden = torch.tensor([[1.0, 0.1, 0.1], [0.1, 1.0, 0.1], [0.1, 0.1, 1.0], [-0.5, -0.5, -0.5]])  # not all ≥ 0: no clamping
    targets = far_targets(head, hidden, radius_factor=5.0)
    centre = hidden.mean(0)
    radius = float((hidden - centre).norm(dim=1).max())
    assert sorted(targets) == [0, 1, 2]
    for k, t in targets.items():
        assert int(head(t[None]).argmax()) == k
        assert float((t - centre).norm()) == pytest.approx(5.0 * radius, rel=1e-4)


def test_inversion_reaches_far_hidden_points_of_a_bottleneck_mlp():
    torch.manual_seed(0)
    model = build("mlp", input_shape=(1, 6, 6), classes=3, widths=[16], bottleneck=2).eval()
    reference = torch.rand(200, 1, 6, 6)
    result = HiddenInversion(steps=200, stop_early=False)(model, required=0.6, seed=0, reference=reference)
    goal = torch.tensor(result.extra["hidden_targets"])
    start = embed(model, reference).mean(0)
    reached = embed(model, result.images)
    assert bool(((reached - goal).norm(dim=1) < (start - goal).norm(dim=1)).all())
    assert float(result.images.min()) >= 0 and float(result.images.max()) <= 1
    torch.testing.assert_close(result.nearest_distances, nearest_distances(result.images, reference)[0])


def test_inversion_needs_a_features_and_linear_head_model():
    x = torch.rand(30, 1, 4, 4)
    rbf = init_rbf_from_data(build("rbf", input_shape=(1, 4, 4), classes=3), x, torch.arange(30) % 3)
    with pytest.raises(TypeError, match="linear head"):
        HiddenInversion(steps=5)(rbf, reference=x)
    ens = make_ensemble([linear_model(), linear_model(seed=1)])
    with pytest.raises(TypeError, match="features/head split"):
        feature_head(ens)


def test_nearest_distances_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    x, ref = torch.rand(7, 1, 3, 3, generator=gen), torch.rand(50, 1, 3, 3, generator=gen)
    d, i = nearest_distances(x, ref, batch_size=8)
    full = torch.cdist(x.flatten(1).double(), ref.flatten(1).double())
    torch.testing.assert_close(d, full.min(1).values)
    assert i.tolist() == full.argmin(1).tolist()


def test_noise_confidence_summarises_the_models_answers(linear):
    res = noise_confidence(linear, "uniform", n=500, seed=3)
    conf = linear.predict_proba(noise_inputs("uniform", 500, linear, seed=3)).max(1).values
    assert res.mean == pytest.approx(float(conf.mean()), rel=1e-6)
    assert res.median == pytest.approx(float(conf.median()), rel=1e-6)
    assert res.fraction_confident == pytest.approx(float((conf > 0.5).float().mean()))
    assert sum(res.class_shares) == pytest.approx(1.0)
    assert NoiseConfidence("uniform", n=500, seed=3)(linear).mean == res.mean
    clipped = noise_inputs("gaussian-clipped", 100, linear, seed=0)
    assert float(clipped.min()) >= 0 and float(clipped.max()) <= 1
    assert float(noise_inputs("gaussian", 100, linear, seed=0).min()) < 0  # N(0, I) as the paper feeds it
    with pytest.raises(ValueError, match="noise kind"):
        noise_confidence(linear, "pink")


def test_a_distance_aware_model_is_unsure_on_noise_where_a_linear_one_is_sure(linear):
    x = torch.zeros(60, 1, 4, 4)
    x[::3, :, :2] = 1.0
    x[1::3, :, 2:] = 1.0
    x[2::3, :, :, :2] = 1.0
    rbf = init_rbf_from_data(build("rbf", input_shape=(1, 4, 4), classes=3), x, torch.arange(60) % 3).eval()
    noise = noise_confidence(rbf, "gaussian", n=500).mean
    assert noise < 0.5 < noise_confidence(linear, "gaussian", n=500).mean
