"""Adaptive slices: same labels as the full grid on trained digit models, with a fraction of the evaluations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlab.data import load
from advlab.models import Model, build
from advlab.train import fit
from advlab.viz import compute_slice
from advlab.viz.adaptive import refine_grid


def _sector_problem(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A convex feasible triangle and three linear class regions (exact labels known)."""
    yy, xx = np.mgrid[0:n, 0:n] / (n - 1)
    feasible = (yy >= 0.05) & (xx - yy >= -0.3) & (xx + yy <= 1.6)
    logits = np.stack([xx - 0.4, yy - 0.5, 0.6 - xx - 0.3 * yy], axis=-1) * 8
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return feasible, probs.astype(np.float32), probs.argmax(-1)


def test_refine_grid_on_known_regions() -> None:
    feasible, probs, labels = _sector_problem(257)
    calls: list[int] = []

    def evaluate(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        assert feasible[rows, cols].all(), "an infeasible pixel was sent to the model"
        calls.append(len(rows))
        return probs[rows, cols]

    got, got_probs, evaluated = refine_grid(evaluate, feasible, 3, initial_step=8)
    assert sum(calls) == evaluated.sum() < 0.3 * feasible.sum()
    assert not (evaluated & ~feasible).any()
    np.testing.assert_array_equal(got[feasible], labels[feasible])  # straight boundaries: nothing missed
    assert (got[~feasible] == -1).all() and np.isnan(got_probs[~feasible]).all()
    # Filled (interpolated) probabilities agree with the filled label and are close to the truth.
    np.testing.assert_array_equal(got_probs[feasible].argmax(-1), got[feasible])
    np.testing.assert_allclose(got_probs[evaluated], probs[evaluated])
    assert np.abs(got_probs[feasible] - probs[feasible]).max() < 0.1


def test_refine_grid_step_one_evaluates_every_feasible_pixel() -> None:
    feasible, probs, labels = _sector_problem(20)
    got, _, evaluated = refine_grid(lambda r, c: probs[r, c], feasible, 3, initial_step=1)
    np.testing.assert_array_equal(evaluated, feasible)
    np.testing.assert_array_equal(got[feasible], labels[feasible])
    with pytest.raises(ValueError):
        refine_grid(lambda r, c: probs[r, c], feasible, 3, initial_step=0)


@pytest.fixture(scope="module")
def digit_models() -> tuple[list[Model], torch.Tensor, torch.Tensor]:
    data = load("digits")
    torch.manual_seed(0)
    mlp = build("mlp", input_shape=data.input_shape, classes=data.class_names, widths=[64])
    fit(mlp, data, epochs=10, seed=0, lr=3e-3, quiet=True)
    cnn = build("cnn-small", input_shape=data.input_shape, classes=data.class_names)
    fit(cnn, data, epochs=4, seed=0, lr=3e-3, quiet=True)
    return [mlp, cnn], data.x_test, data.y_test


def test_adaptive_matches_full_at_512(digit_models: tuple[list[Model], torch.Tensor, torch.Tensor]) -> None:
    models, x, y = digit_models
    g = torch.Generator().manual_seed(0)
    for model in models:
        assert (model.predict(x) == y).float().mean() > 0.8  # a trained model, not noise
        a = x[0]
        other = x[int(torch.nonzero(y != y[0])[0])]  # a test digit of another class
        perturbed = (a + 0.3 * torch.randn(a.shape, generator=g).sign()).clamp(0, 1)
        noise = torch.rand(a.shape, generator=g)
        for b, c in ((other, noise), (perturbed, other)):
            full = compute_slice(model, a, b, c, resolution=512)
            fast = compute_slice(model, a, b, c, resolution=512, adaptive=True)
            assert fast.adaptive and not full.adaptive
            np.testing.assert_array_equal(fast.feasible, full.feasible)
            assert (fast.labels == full.labels).mean() >= 0.995
            assert fast.evaluations <= 0.3 * full.evaluations
            assert len(np.unique(full.labels[full.feasible])) >= 2  # there are boundaries to find
            assert np.isnan(fast.probabilities[~fast.feasible]).all()
