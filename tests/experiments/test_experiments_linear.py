"""goodfellow-linear, linear-dimension and transfer-disjoint at test scale (fast mode, MNIST from shared data)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.experiments import EXPERIMENTS, ExperimentContext, run_experiment
from advlab.experiments.linear_dimension import box_min_eps


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ctx(tmp_path, data_dir, **options):
    return ExperimentContext(tmp_path, data_dir, quiet=True, seed=0, fast=True, options=options)


def test_box_min_eps_matches_brute_force_on_a_tiny_linear_model():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(20, 3, generator=gen)
    w = torch.tensor([1.5, -0.5, 0.25])
    margin = x @ w - 0.6
    eps = box_min_eps(x, w, margin)
    grid = torch.linspace(0, 1, 2001)
    for i in range(len(x)):
        # Brute force over every corner direction of the L∞ ball, clipped to the box.
        flips = []
        for signs in itertools.product((-1.0, 1.0), repeat=3):
            moved = (x[i][None, :] + grid[:, None] * torch.tensor(signs)).clamp(0, 1)
            crossed = torch.sign(moved @ w - 0.6) != torch.sign(margin[i])
            if crossed.any():
                flips.append(grid[crossed.nonzero()[0, 0]].item())
        expected = min(flips) if flips else float("inf")
        assert eps[i].item() == pytest.approx(expected, abs=1e-3)


def test_goodfellow_linear_fgsm_fools_linear_models(tmp_path, shared_data_dir):
    result = run_experiment("goodfellow-linear", _ctx(tmp_path, shared_data_dir, limit_train=2000, limit_test=200))
    soft, lr = result.metrics["softmax"], result.metrics["three_vs_seven"]
    assert soft["fgsm_error"] > 0.9 and soft["clean_error"] < 0.3
    assert 0.1 < soft["fgsm_mean_confidence_wrong"] <= 1.0
    assert lr["clean_error"] < 0.1 and lr["fgsm_error"] > 0.9 and lr["fgsm_error_eps_0.2"] <= lr["fgsm_error"]
    # For a binary linear model FGSM is exactly ∓ε·sign(w), clipped to the pixel box.
    assert lr["max_abs_difference_fgsm_vs_eps_sign_w"] < 1e-6
    papers = {c.quantity: c.paper for c in result.comparisons}
    assert 99.9 in papers.values() and 1.6 in papers.values()
    assert (tmp_path / "figure2_3v7.png").is_file() and (tmp_path / "metrics.json").is_file()


def test_linear_dimension_slopes_and_exactness(tmp_path, shared_data_dir):
    options = {"resolutions": [7, 14], "synthetic_dims": [10, 100, 1000, 5000], "synthetic_samples": 100}
    result = EXPERIMENTS.get("linear-dimension").run(_ctx(tmp_path, shared_data_dir, **options))
    synth = result.metrics["synthetic"]
    assert synth["fixed_m"]["slope"] == pytest.approx(-1.0, abs=0.2)
    assert synth["fixed_noise"]["slope"] == pytest.approx(-0.5, abs=0.2)
    assert abs(synth["fixed_signal"]["slope"]) < 0.2
    checks = [r["fgsm_agreement_with_exact"] for d in synth.values() for r in d["rows"] if "fgsm_agreement_with_exact" in r]
    assert checks == [1.0, 1.0, 1.0]
    for row in result.metrics["mnist"]:
        assert row["fgsm_agreement_with_exact"] == 1.0
        assert row["median_eps_box"] >= row["median_eps_unconstrained"] - 1e-7  # the box only removes directions
        assert row["test_accuracy"] > 0.8
    assert set(result.figures) == {"epsilon_vs_dimension", "weights_per_resolution"}


def test_transfer_disjoint_matrices(tmp_path, shared_data_dir):
    options = {"limit_train": 1200, "n": 80, "pgd_steps": 5}
    result = EXPERIMENTS.get("transfer-disjoint").run(_ctx(tmp_path, shared_data_dir, **options))
    for name in ("fgsm", "pgd"):
        m = result.metrics[name]
        err = np.array(m["error_rate"])
        assert err.shape == (1, 4, 4) and ((0 <= err) & (err <= 1)).all()
        np.testing.assert_allclose(np.diag(err[0]), np.array(m["source_error"])[0])
        # Adversarials from other models raise every model's error above its clean error.
        off = err[0][~np.eye(4, dtype=bool)].reshape(4, 3)
        assert off.mean() > np.mean(m["clean_error"]) + 0.1
    assert [r["training_half"] for r in result.metrics["models"]] == ["A", "B", "A", "B"]
    assert "transfer_matrices" in result.figures
