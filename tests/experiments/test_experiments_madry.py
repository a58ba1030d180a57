"""madry-mnist at test scale (fast mode, MNIST from the shared data)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from advlab.experiments import ExperimentContext, run_experiment
from advlab.experiments.madry_mnist_train import diagnose
from advlab.models import Model, build
from advlab.runs import open_run
from advlab.train import METHODS
from advlab.train.adversarial import FastFGSM, PGDAdversarial


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_madry_mnist_fast_run(tmp_path, shared_data_dir):
    options = {"limit_train": 1500, "epochs": 1, "n_eval": 40}
    ctx = ExperimentContext(tmp_path, shared_data_dir, quiet=True, seed=0, fast=True, options=options)
    result = run_experiment("madry-mnist", ctx)
    m = result.metrics
    grid = m["settings"]["eps_grid"]
    n = m["settings"]["n_eval"]
    for name, ev in m["evaluation"].items():
        curve = ev["fmn_curve"]
        # One FMN run answers the whole curve: at ε = 0 it is the clean accuracy, and it never rises with ε.
        assert curve[0] == pytest.approx(ev["clean_accuracy"]), name
        assert all(b <= a + 1e-9 for a, b in zip(curve, curve[1:])), name
        assert curve[grid.index(0.3)] == pytest.approx(ev["fmn_accuracy_at_eps"], abs=1.5 / n), name
        # The worst case over PGD and FMN is at most either attack alone.
        assert ev["worst_case_accuracy"] <= min(ev["pgd_accuracy"], ev["fmn_accuracy_at_eps"]) + 1e-9, name
        assert ev["pgd_accuracy"] <= ev["clean_accuracy"] + 1e-9, name
    standard = m["evaluation"]["standard"]
    assert standard["clean_accuracy"] > 0.6 and standard["pgd_accuracy"] < 0.2
    assert set(m["evaluation"]) == {"standard", "fast-s0", "fast-wong-s0", "pgd-wong", "pgd"}
    for name, info in m["training"].items():
        assert info["train_seconds"] > 0 and len(info["probe"]) == info["epochs"], name
        assert isinstance(info["diagnosis"], str) and info["diagnosis"], name
    assert isinstance(m["fast_within_budget"], bool) and isinstance(m["fast_target_met_by"], list)
    assert open_run(m["most_robust_model"]).load_model().spec["family"] == "cnn-small"
    fast = open_run(tmp_path / "models" / "cnn-fast-s0").load_model()
    training = fast.spec["training"]
    assert fast.spec["family"] == "cnn-small" and training["method"] == "fast"
    assert training["eps"] == 0.3 and training["step"] == 0.375 and training["schedule"] == "cyclic"
    assert open_run(tmp_path / "models" / "cnn-pgd").load_model().spec["training"]["method"] == "pgd"
    wong = open_run(tmp_path / "models" / "cnn-fast-wong-s0").load_model().spec["training"]
    assert wong["method"] == "fast" and wong["clip_start"] is False
    assert {88.8, 98.5} <= {c.paper for c in result.comparisons}
    assert set(result.figures) == {"robust_accuracy_vs_eps", "training_curves"}
    assert (tmp_path / "training_curves.png").is_file()


def _tiny() -> tuple[torch.Tensor, torch.Tensor, Model]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 8, 8, generator=gen) * (torch.rand(16, 1, 8, 8, generator=gen) > 0.7)
    y = torch.randint(0, 3, (16,), generator=gen)
    torch.manual_seed(0)
    return x, y, build("softmax", input_shape=(1, 8, 8), classes=3)


def test_advlab_fast_step_leaves_black_pixels_at_zero_or_eps():
    x, y, model = _tiny()
    eps = 0.3
    ours = METHODS.create("fast", eps=eps, step=1.25 * eps, clip_start=True).perturb(model, x, y, torch.Generator().manual_seed(1))
    # The start clipped first: on black pixels δ ends exactly at 0 or ε (no randomness left), which is what
    # Wong et al.'s MNIST step, advlab's default since issue 9, avoids (next test).
    on_black = ours[x == 0]
    assert ((on_black == 0) | (on_black - eps).abs().lt(1e-6)).all()


def test_wong_fast_step_perturbation_stays_in_ball_and_box():
    x, y, model = _tiny()
    eps = 0.3
    captured = _spy_last_input(model)
    FastFGSM(eps, 0.375, clip_start=False).batch_loss(model, x, y)
    x_adv = captured["last"]
    assert (x_adv >= 0).all() and (x_adv <= 1).all() and ((x_adv - x).abs() <= eps + 1e-6).all()
    # Some black pixels end strictly inside (0, ε): the random start survives the clamp.
    inner = (x == 0) & (x_adv > 1e-6) & (x_adv < eps - 1e-6)
    assert inner.any()


def _spy_last_input(model: Model) -> dict[str, torch.Tensor]:
    """Record the last input the model's forward saw (the batch the training loss is taken on)."""
    captured: dict[str, torch.Tensor] = {}
    original = model.forward

    def spy(inp: torch.Tensor) -> torch.Tensor:
        captured["last"] = inp.detach()
        return original(inp)

    model.forward = spy  # type: ignore[method-assign]
    return captured


def test_wong_pgd_leaves_misclassified_samples_at_their_start():
    x, y, model = _tiny()
    with torch.no_grad():  # small weights, a large bias for class 0: class 0 everywhere, gradients still non-zero
        model.net.head.weight.mul_(0.01)
        model.net.head.bias.copy_(torch.tensor([5.0, 0.0, 0.0]))
    captured = _spy_last_input(model)
    out = PGDAdversarial(0.3, steps=5, stepsize=0.1, stop_when_fooled=True).batch_loss(
        model, x, y, generator=torch.Generator().manual_seed(2))
    start = (x + (torch.rand(x.shape, generator=torch.Generator().manual_seed(2)) * 2 - 1) * 0.3).clamp(0, 1)
    final = captured["last"]
    assert torch.isfinite(out.loss)
    right = y == 0
    assert right.any() and (~right).any()
    torch.testing.assert_close(final[~right], start[~right])  # misclassified from the start: never moved
    assert not torch.allclose(final[right], start[right])
    assert ((final - x).abs() <= 0.3 + 1e-6).all() and (final >= 0).all() and (final <= 1).all()


def test_diagnose_reads_probe_outcomes():
    probe = lambda *v: [{"epoch": i + 1, "robust_accuracy": a} for i, a in enumerate(v)]  # noqa: E731
    assert "catastrophic overfitting" in diagnose(probe(0.1, 0.4, 0.0), 0.97, 0.99, 0.0)
    assert "never became robust" in diagnose(probe(0.05, 0.2, 0.1), 0.98, 0.99, 0.1)
    assert "masked gradients" in diagnose(probe(0.05, 0.2, 0.1), 0.98, 0.99, 0.1)
    assert "plateau" in diagnose(probe(0.1, 0.1), 0.11, 0.11, 0.11)
    assert diagnose(probe(0.5, 0.85), 0.98, 0.95, 0.86) == "robust training worked"
