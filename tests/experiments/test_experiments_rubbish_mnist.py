"""rubbish-mnist at a tiny scale (MNIST from the shared data): every model, noise, every strategy, re-measured."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from advlab.experiments import ExperimentContext, run_experiment
from advlab.experiments.rubbish_mnist import STRATEGIES
from advlab.fooling import FoolingResult
from advlab.runs import open_run

# Trains 8 small models and runs 5 searches on each: ~15 s of CPU, minutes on a busy machine.
pytestmark = pytest.mark.slow

TINY = {"limit_train": 600, "limit_test": 200, "epochs": 1, "mlp_widths": [32], "maxout_units": 16, "maxout_pieces": 2,
        "pgd_steps": 1, "ensemble_members": 2, "ensemble_epochs": 1, "noise_n": 200, "budget": 100, "nguyen_budget": 100}


@pytest.fixture(scope="module")
def result(shared_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("rubbish")
    ctx = ExperimentContext(out, data_dir=shared_data_dir, quiet=True, fast=True, options=TINY)
    res = run_experiment("rubbish-mnist", ctx)
    yield res, out
    plt.close("all")


def test_every_model_is_measured_on_noise_and_fooled_by_every_applicable_strategy(result):
    res, _ = result
    models = set(res.metrics["models"])
    assert {"softmax", "mlp", "cnn-small", "maxout", "rbf", "cnn-small-pgd", "ensemble"} <= models
    for name in models:
        assert set(res.metrics["noise"][name]) == {"gaussian", "gaussian-clipped", "uniform"}
        assert set(res.metrics["fooling"][name]) == set(STRATEGIES)
    # inversion needs a features → linear head model: not the RBF, not the ensemble
    assert isinstance(res.metrics["fooling"]["rbf"]["invert"], str)
    assert isinstance(res.metrics["fooling"]["ensemble"]["invert"], str)
    assert res.metrics["noise"]["rbf"]["uniform"]["mean"] < 0.2  # distance-aware: near 1/K on noise


def test_reported_confidences_are_those_of_the_saved_images(result):
    res, out = result
    for name, per in res.metrics["fooling"].items():
        model = open_run(out / "models" / name).load_model()
        for strategy, entry in per.items():
            if isinstance(entry, str):
                continue
            saved = FoolingResult.load(out / "fooling" / name / f"{strategy}.safetensors").measure(model)
            reported = torch.tensor([row["p(target)"] for row in entry["table"]], dtype=torch.float64)
            torch.testing.assert_close(reported, saved.target_confidences, rtol=1e-5, atol=1e-6)


def test_comparisons_and_outputs(result):
    res, out = result
    quantities = [c.quantity for c in res.comparisons]
    assert any("maxout" in q and "p > 0.5" in q for q in quantities)
    assert any("evolve-cppn" in q for q in quantities) and any("evolve-direct" in q for q in quantities)
    abs_row = next(c for c in res.comparisons if c.quantity.startswith("ABS"))
    assert math.isnan(abs_row.ours) == (not res.metrics["abs_available"])
    assert {"noise_confidence", "reached", "nguyen", "grid_cnn-small", "grid_rbf"} <= set(res.figures)
    assert (out / "metrics.json").is_file() and "budget 100" in res.scale and res.summary
