"""goodfellow-mnist at test scale (fast mode, MNIST from the shared data), and its measuring helpers."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from advlab.experiments import ExperimentContext, run_experiment
from advlab.experiments.goodfellow_mnist_eval import (
    attack_view,
    fgsm,
    fgsm_errors,
    rbf_class_probability,
    rubbish_scores,
)
from advlab.models import build, init_rbf_from_data
from advlab.runs import open_run


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _tiny_data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 6, 6, generator=gen) * (torch.rand(n, 1, 6, 6, generator=gen) > 0.6)  # mostly-black images
    return x, torch.randint(0, 3, (n,), generator=gen)


def test_unclipped_fgsm_moves_every_pixel_by_eps_clipped_stays_valid():
    x, y = _tiny_data()
    model = build("softmax", input_shape=(1, 6, 6), classes=3)
    eps = 0.25
    free = fgsm(model, x, y, eps, "unclipped", seed=0).adversarials[0]
    valid = fgsm(model, x, y, eps, "clipped", seed=0).adversarials[0]
    # The paper's FGSM: x + ε·sign(∇), no clipping (a linear model's gradient is nowhere zero).
    torch.testing.assert_close((free - x).abs(), torch.full_like(x, eps))
    assert free.min() < 0 and valid.min() >= 0 and valid.max() <= 1
    torch.testing.assert_close(valid, free.clamp(0, 1))
    assert attack_view(model, "clipped", eps) is model
    with pytest.raises(ValueError, match="variant"):
        attack_view(model, "sideways", eps)


def test_fgsm_errors_count_every_misclassified_input():
    x, y = _tiny_data()
    model = build("softmax", input_shape=(1, 6, 6), classes=3)
    result = fgsm(model, x, y, 0.25, "clipped", seed=0)
    errors = fgsm_errors(result)
    wrong = result.predictions[0] != y
    assert errors.error == pytest.approx(wrong.float().mean().item())
    assert errors.confidence_wrong == pytest.approx(result.confidences[0][wrong].mean().item())


def test_rbf_class_probability_is_the_reject_free_part_of_predict_proba():
    x, y = _tiny_data()
    model = init_rbf_from_data(build("rbf", input_shape=(1, 6, 6), classes=3), x, y)
    raw = rbf_class_probability(model, x, batch_size=7)
    q = model.predict_proba(x).max(1).values
    k = model.num_classes
    # q = p_raw + p_none/K with p_none = 1 − Σ p_raw ≥ 0, so q ≥ p_raw and q ≤ p_raw + (1 − p_raw)/K.
    assert (raw >= 0).all() and (raw <= q + 1e-6).all() and (q <= raw + (1 - raw) / k + 1e-6).all()
    far = rubbish_scores(model, 50 + torch.randn(100, 1, 6, 6))
    assert far["fraction_confident"] == 0.0 and math.isnan(far["mean_confidence_confident"])
    assert far["mean_confidence"] == pytest.approx(1 / k, abs=1e-3)


def test_goodfellow_mnist_fast_run(tmp_path, shared_data_dir):
    ctx = ExperimentContext(tmp_path, shared_data_dir, quiet=True, seed=0, fast=True)
    result = run_experiment("goodfellow-mnist", ctx)
    m = result.metrics
    models = m["models"]
    assert {"softmax", "maxout", "maxout-fgsm", "maxout-fgsm-unclipped", "maxout-noise-sign", "maxout-noise-uniform", "maxout-l1-0.0025",
            "maxout-l1-0.0005", "maxout-mixup", "rbf"} <= set(models)
    for name, row in models.items():
        for v in ("unclipped", "clipped"):
            assert 0.0 <= row["fgsm"][v]["error"] <= 1.0, name
        # FGSM does not help a standard model: its adversarial error is at least its clean error.
        if row["training"] == "standard":
            assert row["fgsm"]["unclipped"]["error"] >= row["clean"]["error"] - 0.02, name
    # An RBF spreads its reject mass: never confident on Gaussian rubbish, unclipped or clipped.
    assert m["rubbish"]["unclipped"]["rbf"]["fraction_confident"] == 0.0
    assert m["rubbish"]["clipped"]["rbf"]["fraction_confident"] == 0.0
    assert m["ensemble"]["members"] == 2 and len(m["ensemble"]["unclipped"]["members"]) == 2
    for v in ("unclipped", "clipped"):
        for key in ("maxout_to_fgsm_trained", "fgsm_trained_to_maxout"):
            assert 0.0 <= m["transfer"][v][key]["error"] <= 1.0
    papers = {c.paper for c in result.comparisons}
    assert {89.4, 17.9, 19.6, 40.9, 86.2, 90.4, 55.4, 91.1, 87.9, 98.35, 59.8, 0.0} <= papers
    rbf_rubbish = next(c for c in result.comparisons if c.quantity == "rubbish N(0, I): RBF confident")
    assert rbf_rubbish.ours == 0.0 and rbf_rubbish.note.startswith("close")
    # Checkpoints for later pictures: run folders that load with their training recorded.
    fgsm_run = open_run(tmp_path / "models" / "maxout-fgsm")
    spec = fgsm_run.load_model().spec
    assert spec["family"] == "maxout" and spec["training"]["method"] == "fgsm"
    assert spec["training"]["eps"] == 0.25 and spec["training"]["alpha"] == 0.5
    assert fgsm_run.info["data"]["name"] == "mnist"
    # The paper's protocol: trained on x + ε·sign(∇) without clipping, saved with the ordinary [0, 1] bounds.
    unclipped = open_run(tmp_path / "models" / "maxout-fgsm-unclipped").load_model()
    assert unclipped.spec["training"]["perturbation_clipped"] is False
    assert float(unclipped.bounds.lower) == 0.0 and float(unclipped.bounds.upper) == 1.0
    assert m["transfer"]["unclipped"]["fgsm_trained"] == "maxout-fgsm-unclipped"
    ensemble = open_run(tmp_path / "models" / "ensemble").load_model()
    assert ensemble.spec["family"] == "ensemble" and len(ensemble.spec["options"]["members"]) == 2
    assert {"adversarial_error", "fgsm_gallery_maxout", "fgsm_gallery_rbf", "rubbish_unclipped",
            "rubbish_clipped"} <= set(result.figures)
    assert (tmp_path / "adversarial_error.png").is_file() and (tmp_path / "metrics.json").is_file()
    assert "ε = 0.25" in result.scale
