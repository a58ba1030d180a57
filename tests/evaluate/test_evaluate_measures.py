"""Minimal perturbations (analytic minima of a linear model), noise/rubbish confidence against softmax."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from advlab.attacks import DDN, FMN, PGD
from advlab.evaluate.confidence import confidence, noise_confidence, noise_inputs
from advlab.evaluate.minimal import accuracy_curve, minimal_perturbations
from advlab.models import wrap


@pytest.fixture(scope="module")
def linear():
    """A linear classifier with analytic minimal L2 / L∞ adversarials (box wide enough never to bind)."""
    n, d, k = 24, 12, 4
    g = torch.Generator().manual_seed(0)
    net = nn.Linear(d, k)
    with torch.no_grad():
        net.weight.copy_(torch.randn(k, d, generator=g))
        net.bias.copy_(torch.randn(k, generator=g))
    model = wrap(net, bounds=(-3, 3), classes=k, input_shape=(d,))
    x = torch.rand(n, d, generator=g) * 2 - 1
    with torch.no_grad():
        z = net(x)
    y = z.argmax(1)
    y[:3] = (y[:3] + 1) % k  # three misclassified inputs: distance 0
    w = net.weight.detach()
    pred = z.argmax(1)
    minima = {}
    for norm, dual in (("l2", 2), ("linf", 1)):
        m = (z.gather(1, pred[:, None]) - z) / torch.linalg.vector_norm(w[pred][:, None] - w[None], ord=dual, dim=2)
        m[torch.arange(n), pred] = torch.inf
        minima[norm] = torch.where(pred == y, m.min(1).values, torch.zeros(n))
    return model, x, y, minima


def test_minimal_perturbations_match_the_analytic_minima(linear):
    model, x, y, minima = linear
    res = minimal_perturbations(model, x, y, {"l2": [FMN("l2", steps=100), DDN(steps=100)], "linf": [FMN("linf", steps=100)]},
                                thresholds={"l2": 0.5})
    for norm in ("l2", "linf"):
        d = res.distances[norm]
        assert torch.all(d[:3] == 0)
        assert (d >= minima[norm] - 1e-4).all()  # nothing beats the minimum
        ratio = d[3:] / minima[norm][3:]
        assert ratio.median() <= 1.02 and ratio.max() <= 1.1
        assert res.median(norm) == pytest.approx(minima[norm].sort().values[(len(d) - 1) // 2].item(), rel=0.03)
        assert res.found(norm) == 1.0
    assert res.thresholds["l2"] == 0.5 and res.thresholds["linf"] == 0.3
    assert res.accuracy("l2") == pytest.approx(((minima["l2"] > 0.5) & (torch.arange(len(y)) >= 3)).float().mean().item(), abs=0.05)
    curve = accuracy_curve(res, "l2", [0.0, 0.5, math.inf])
    assert curve[0] == pytest.approx(21 / 24) and curve[-1] == 0.0
    assert "median" in str(res) and res.to_json()["table"][0]["norm"] == "l2"
    with pytest.raises(ValueError):
        minimal_perturbations(model, x, y, {"l2": [PGD("l2")]})
    with pytest.raises(ValueError):
        minimal_perturbations(model, x, y, {"linf": [FMN("l2")]})


def test_confidence_is_the_softmax_top_probability(digits_model):
    model, x, _ = digits_model
    res = confidence(model, x, "digits")
    probs = torch.softmax(model.logits(x), dim=1)
    assert torch.allclose(res.confidences, probs.max(1).values, atol=1e-6)
    assert res.fraction_confident == pytest.approx((probs.max(1).values > 0.5).float().mean().item())
    assert sum(res.class_shares()) == pytest.approx(1.0)


def test_noise_inputs(digits_model):
    model, _, _ = digits_model
    u = noise_inputs(model, "uniform", 50, seed=1)
    assert u.shape == (50, *model.input_shape) and u.min() >= 0 and u.max() <= 1
    g = noise_inputs(model, "gaussian", 2000, seed=1)
    assert g.min() < 0 < g.max() and abs(g.std().item() - 1) < 0.05  # the paper's rubbish: N(0, I), unclipped
    assert torch.equal(noise_inputs(model, "gaussian", 5, seed=2), noise_inputs(model, "gaussian", 5, seed=2))
    clipped = noise_confidence(model, "gaussian", 100, seed=0, clip=True)
    assert clipped.kind == "gaussian clipped" and len(clipped.confidences) == 100
    with pytest.raises(ValueError):
        noise_inputs(model, "pink", 5, 0)


def test_evaluate_model_on_a_plain_torch_network(digits_model):
    """A user's own nn.Module, wrapped with its bounds: the whole evaluation, as evaluation.json holds it."""
    from advlab.evaluate.evaluation import evaluate_model

    model, x, y = digits_model
    net = nn.Sequential(*model.net.children()) if isinstance(model.net, nn.Sequential) else model.net
    mine = wrap(net, bounds=(0, 1), classes=10, input_shape=tuple(x.shape[1:]))
    ev = evaluate_model(mine, x[:30], y[:30], eps=[0.05], preset="quick", check_n=10, noise_n=20, medians=["l2"])
    out = ev.to_json()
    assert out["n"] == 30 and out["norm"] == "linf" and out["checks"]["n"] == 10
    assert out["minimal_perturbations"]["table"][0]["norm"] == "l2"
    assert [c["kind"] for c in out["noise_confidence"]] == ["gaussian", "uniform"]
    assert out["robust_accuracy"]["0.05"] <= out["clean_accuracy"]
