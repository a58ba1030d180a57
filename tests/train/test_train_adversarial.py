"""Adversarial training methods: the losses they define, the batches they craft, and what training with them buys."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from advlab import data
from advlab.models import build, load, save
from advlab.train import METHODS, FastFGSM, FGSMAdversarial, PGDAdversarial, StandardTraining, fit


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", quiet=True)


def _mlp(ds, seed=0):
    torch.manual_seed(seed)
    return build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[64])


@pytest.fixture(scope="module")
def trained(digits):
    model = _mlp(digits)
    fit(model, digits, epochs=4, lr=1e-2, batch_size=64, quiet=True)
    return model


def _pgd_reference(model, x, y, eps, steps=20):
    """An independent L∞ PGD (eval mode) to measure robustness with, not the code under test."""
    model.eval()
    torch.manual_seed(123)
    x_adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
        x_adv = torch.min(torch.max(x_adv.detach() + eps / 4 * g.sign(), x - eps), x + eps).clamp(0, 1)
    return x_adv


def _robust_accuracy(model, x, y, eps):
    return (model.predict(_pgd_reference(model, x, y, eps)) == y).float().mean().item()


def test_fgsm_alpha_one_is_standard_training_exactly(digits):
    model = _mlp(digits)
    x, y = digits.x_train[:64], digits.y_train[:64]
    ours = FGSMAdversarial(0.1, alpha=1.0).batch_loss(model, x, y)
    standard = StandardTraining().batch_loss(model, x, y)
    assert torch.equal(ours.loss, standard.loss)


def test_fgsm_loss_mixes_clean_and_gradient_sign_loss(digits):
    model = _mlp(digits)
    x, y = digits.x_train[:64], digits.y_train[:64]
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
    x_adv = (x + 0.1 * g.sign()).clamp(0, 1)
    expected = 0.3 * F.cross_entropy(model(x), y) + 0.7 * F.cross_entropy(model(x_adv), y)
    got = FGSMAdversarial(0.1, alpha=0.3).batch_loss(model, x, y)
    torch.testing.assert_close(got.loss, expected)
    torch.testing.assert_close(got.logits, model(x))  # reported logits are the clean ones


@pytest.mark.parametrize("method", [FGSMAdversarial(0.2), PGDAdversarial(0.2, steps=5, stepsize=0.1), FastFGSM(0.2)])
def test_adversarial_batch_lies_in_eps_ball_and_bounds(digits, trained, method):
    x, y = digits.x_test[:100], digits.y_test[:100]
    x_adv = method.perturb(trained, x, y)
    delta = x_adv - x
    assert delta.abs().max() <= 0.2 + 1e-6
    assert trained.bounds.contains(x_adv).all()
    assert delta.abs().max() > 0.19  # it really moved, up to the radius


def test_pgd_respects_per_feature_bounds():
    iris = data.load("iris", quiet=True)
    torch.manual_seed(0)
    model = build("mlp", input_shape=iris.input_shape, classes=iris.class_names, bounds=iris.bounds, widths=[8])
    x_adv = PGDAdversarial(5.0, steps=3, stepsize=2.0).perturb(model, iris.x_train, iris.y_train)
    assert model.bounds.contains(x_adv).all()
    assert ((x_adv - iris.x_train).abs() <= 5.0 + 1e-5).all()


def test_pgd_loss_at_least_fgsm_loss_at_least_clean_loss(digits, trained):
    trained.eval()
    x, y = digits.x_test, digits.y_test
    torch.manual_seed(0)
    clean = F.cross_entropy(trained.logits(x), y)
    fgsm = F.cross_entropy(trained.logits(FGSMAdversarial(0.1).perturb(trained, x, y)), y)
    pgd = F.cross_entropy(trained.logits(PGDAdversarial(0.1, steps=10, stepsize=0.025, stop_when_fooled=False).perturb(trained, x, y)), y)
    assert clean < fgsm < pgd


def test_pgd_without_random_start_is_deterministic_and_one_step_equals_fgsm(digits, trained):
    trained.eval()
    x, y = digits.x_test[:50], digits.y_test[:50]
    one_step = PGDAdversarial(0.1, steps=1, stepsize=0.1, random_start=False, stop_when_fooled=False).perturb(trained, x, y)
    torch.testing.assert_close(one_step, FGSMAdversarial(0.1).perturb(trained, x, y))


def test_fast_fgsm_starts_uniformly_at_random_within_eps(digits):
    model = _mlp(digits)
    method = FastFGSM(0.1)
    assert method.step == pytest.approx(0.125) and method.default_schedule == "cyclic"
    x = torch.full((200, 1, 8, 8), 0.5)  # interior points: no clipping
    torch.manual_seed(0)
    a = method.random_start(model, x) - x
    b = method.random_start(model, x) - x
    assert a.abs().max() <= 0.1 and not torch.equal(a, b)
    assert abs(a.mean().item()) < 0.005 and a.std().item() == pytest.approx(0.1 / 3**0.5, rel=0.05)


@pytest.mark.parametrize(("method", "forwards"), [
    (FGSMAdversarial(0.1), 2), (PGDAdversarial(0.1, steps=4, stepsize=0.03), 5), (FastFGSM(0.1), 2)
])
def test_crafting_costs_one_forward_per_step_and_leaves_weight_grads_alone(digits, method, forwards):
    model = _mlp(digits)
    calls = []
    model.net.register_forward_hook(lambda *_: calls.append(1))
    model.train()
    out = method.batch_loss(model, digits.x_train[:32], digits.y_train[:32])
    assert len(calls) == forwards
    assert all(p.grad is None for p in model.parameters())
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(("name", "options", "expected"), [
    ("fgsm", {"eps": 0.1}, {"method": "fgsm", "eps": 0.1, "alpha": 0.5}),
    # issue 9's defaults: Wong et al.'s MNIST PGD loop (10 steps of 0.04 at ε 0.3, fooled samples stop)
    # and their unclipped fast start.
    ("pgd", {"eps": 0.3}, {"method": "pgd", "eps": 0.3, "steps": 10, "stepsize": 0.04, "random_start": True,
                           "stop_when_fooled": True}),
    ("pgd", {"eps": 0.3, "steps": 40}, {"method": "pgd", "eps": 0.3, "steps": 40, "stepsize": 0.01, "random_start": True,
                                        "stop_when_fooled": True}),
    ("fast", {"eps": 0.2}, {"method": "fast", "eps": 0.2, "step": 0.25, "clip_start": False}),
])
def test_make_method_builds_each_by_name_with_full_config(name, options, expected):
    config = METHODS.create(name, **options).config()
    assert config.keys() == expected.keys()
    assert config == pytest.approx(expected)


@pytest.mark.parametrize("bad", [{"eps": -0.1}, {"eps": float("nan")}, {"eps": 0.1, "alpha": 1.5}, {}])
def test_invalid_parameters_are_refused(bad):
    with pytest.raises(ValueError):
        METHODS.create("fgsm", **bad)
    with pytest.raises(ValueError):
        METHODS.create("pgd", eps=0.1, steps=0)


def test_robust_training_raises_robustness_over_standard_training(digits):
    eps = 0.15
    results = {}
    for name, method in [("standard", None), ("pgd", PGDAdversarial(eps, steps=3, stepsize=eps / 2)),
                         ("fast", FastFGSM(eps))]:
        model = _mlp(digits)
        fit(model, digits, method=method, epochs=3, lr=1e-2, batch_size=64, quiet=True)
        results[name] = _robust_accuracy(model, digits.x_test, digits.y_test, eps)
    # measured: standard ≈ 0.15, pgd ≈ 0.48, fast ≈ 0.49 accuracy under a 20-step PGD at ε = 0.15
    assert results["pgd"] > results["standard"] + 0.2, results
    assert results["fast"] > results["standard"] + 0.2, results


def test_fit_records_method_and_save_load_keeps_it(digits, tmp_path):
    model = _mlp(digits)
    history = fit(model, digits, method=FastFGSM(0.1), epochs=1, quiet=True)
    assert history.config["schedule"] == "cyclic"
    loaded = load(save(model, tmp_path / "m.safetensors"))
    assert loaded.spec["training"]["method"] == "fast"
    assert loaded.spec["training"]["eps"] == pytest.approx(0.1)
    assert loaded.spec["training"]["step"] == pytest.approx(0.125)


def test_fit_resumes_an_adversarial_run(digits, tmp_path):
    full = _mlp(digits)
    fit(full, digits, method=FGSMAdversarial(0.1), epochs=2, quiet=True, checkpoint_dir=tmp_path / "a")
    part = _mlp(digits)
    fit(part, digits, method=FGSMAdversarial(0.1), epochs=1, quiet=True, checkpoint_dir=tmp_path / "b")
    resumed = _mlp(digits)
    fit(resumed, digits, method=FGSMAdversarial(0.1), epochs=2, quiet=True, checkpoint_dir=tmp_path / "b", resume=True)
    for a, b in zip(full.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_cli_train_with_fgsm_records_the_method(tmp_path):
    from click.testing import CliRunner

    from advlab.cli import cli
    from advlab.runs import open_run

    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "mlp", "--data", "digits", "--method", "fgsm", "--eps", "0.1", "--epochs", "1", "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "[fgsm]" in result.output
    run = open_run(out)
    assert run.load_model().spec["training"]["method"] == "fgsm"
    assert run.load_model().spec["training"]["eps"] == pytest.approx(0.1)
    history = json.loads((out / "history.json").read_text())
    assert history["config"]["method"] == {"method": "fgsm", "eps": 0.1, "alpha": 0.5}


def test_cli_refuses_an_option_a_method_does_not_take(tmp_path):
    from click.testing import CliRunner

    from advlab.cli import cli

    result = CliRunner().invoke(
        cli, ["train", "mlp", "--data", "digits", "--method", "mixup", "--eps", "0.1", "--out", str(tmp_path), "-q"]
    )
    assert result.exit_code != 0 and "mixup" in result.output


def test_pgd_stop_when_fooled_freezes_misclassified_samples():
    import torch

    from advlab.models import build
    from advlab.train.adversarial import PGDAdversarial

    torch.manual_seed(0)
    model = build("softmax", input_shape=(6,), classes=3)
    x = torch.rand(64, 6) * 0.5 + 0.25
    y = model.predict(x)
    y[:32] = (y[:32] + 1) % 3  # already misclassified: must not move under stop_when_fooled
    torch.manual_seed(1)
    frozen = PGDAdversarial(0.1, steps=5, stepsize=0.02, random_start=False, stop_when_fooled=True).perturb(model, x, y)
    torch.manual_seed(1)
    moving = PGDAdversarial(0.1, steps=5, stepsize=0.02, random_start=False, stop_when_fooled=False).perturb(model, x, y)
    assert torch.equal(frozen[:32], x[:32])
    assert not torch.equal(moving[:32], x[:32])
    assert (frozen - x).abs().max() <= 0.1 + 1e-6 and frozen.min() >= 0 and frozen.max() <= 1


def test_fast_fgsm_unclipped_start_keeps_background_random():
    import torch

    from advlab.models import build
    from advlab.train.adversarial import FastFGSM

    torch.manual_seed(0)
    model = build("softmax", input_shape=(1, 4, 4), classes=3)
    x = torch.zeros(256, 1, 4, 4)  # black background, as MNIST
    clipped = FastFGSM(0.3, step=0.375, clip_start=True).random_start(model, x)
    unclipped = FastFGSM(0.3, step=0.375, clip_start=False).random_start(model, x)
    assert clipped.min() >= 0 and unclipped.min() < -0.2
    y = torch.zeros(256, dtype=torch.long)
    adv = FastFGSM(0.3, step=0.375, clip_start=False).perturb(model, x, y)
    assert adv.min() >= 0 and adv.max() <= 0.3 + 1e-6
    # From an unclipped start, the final δ on a black pixel can land strictly between 0 and ε.
    assert ((adv > 0.01) & (adv < 0.29)).any()
    assert FastFGSM(0.3, clip_start=False).config()["clip_start"] is False
