"""Adversarial training built on the attacks: any attack object and norm, seeds and generators passed in,
the robustness probe with its best checkpoint, and hidden-layer perturbations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advlab import data
from advlab.attacks import FGSM, PGD
from advlab.models import build
from advlab.train import METHODS, Adversarial, FastFGSM, FGSMAdversarial, Mixup, PGDAdversarial, RobustProbe, SignNoise, UniformNoise, fit
from advlab.train.hidden import split_at


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", quiet=True, limit_train=600, limit_test=200)


def _mlp(ds, seed=0):
    return build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[32], seed=seed)


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


BY_NAME = {
    "fgsm": lambda: FGSMAdversarial(0.1),
    "pgd": lambda: PGDAdversarial(0.1, steps=3),
    "fast": lambda: FastFGSM(0.1),
    "pgd-l2": lambda: PGDAdversarial(1.0, steps=3, norm="l2"),
    "fast-l1": lambda: FastFGSM(4.0, norm="l1"),
    "mixup": lambda: Mixup(1.0),
    "noise-sign": lambda: SignNoise(0.1),
    "noise-uniform": lambda: UniformNoise(0.1),
    "hidden": lambda: FGSMAdversarial(0.2, layer="features"),
}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_same_seed_gives_bit_identical_weights_and_leaves_global_rng_alone(digits, name):
    runs = []
    for _ in range(2):
        model = _mlp(digits)
        before = torch.get_rng_state()
        fit(model, digits, method=BY_NAME[name](), epochs=2, batch_size=64, lr=1e-2, seed=3, quiet=True)
        assert torch.equal(torch.get_rng_state(), before), "fit changed the caller's global RNG"
        runs.append(_weights(model))
    assert _same(runs[0], runs[1])
    other = _mlp(digits)
    fit(other, digits, method=BY_NAME[name](), epochs=2, batch_size=64, lr=1e-2, seed=4, quiet=True)
    assert not _same(runs[0], _weights(other))


def test_build_seed_is_reproducible_and_does_not_touch_global_rng(digits):
    before = torch.get_rng_state()
    a, b, c = _mlp(digits, 1), _mlp(digits, 1), _mlp(digits, 2)
    assert torch.equal(torch.get_rng_state(), before)
    assert _same(a.state_dict(), b.state_dict()) and not _same(a.state_dict(), c.state_dict())
    torch.manual_seed(1)
    legacy = build("mlp", input_shape=digits.input_shape, classes=digits.class_names, widths=[32])
    assert _same(a.state_dict(), legacy.state_dict())  # the same weights as seeding the global RNG first
    with pytest.raises(ValueError, match="seed"):
        build("mlp", input_shape=(4,), classes=3, seed=-1)


def test_adversarial_with_a_pgd_attack_object_trains_on_its_output(digits):
    """The method's batch is exactly what the attack's low-level entry returns for the same generator."""
    model = _mlp(digits)
    model.train()
    x, y = digits.x_train[:64], digits.y_train[:64]
    attack = PGD("l2", steps=4)
    method = Adversarial(attack=attack, eps=1.0)
    ours = method.batch_loss(model, x, y, generator=torch.Generator().manual_seed(5))
    adv = attack.perturb(model, x, y, eps=1.0, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(ours.loss, F.cross_entropy(model(adv), y))
    assert (attack.norm.distance(adv - x) <= 1.0 + 1e-5).all() and adv.min() >= 0 and adv.max() <= 1
    assert method.config()["attack"]["norm"] == "l2" and method.config()["alpha"] == 0.0


@pytest.mark.parametrize(("norm", "eps"), [("linf", 0.1), ("l2", 1.0), ("l1", 4.0)])
def test_every_norm_crafts_inside_its_ball_and_raises_the_loss(digits, norm, eps):
    model = _mlp(digits)
    fit(model, digits, epochs=3, lr=1e-2, batch_size=64, quiet=True, probe=False)
    x, y = digits.x_test[:100], digits.y_test[:100]
    for method in (FGSMAdversarial(eps, norm=norm), PGDAdversarial(eps, steps=5, norm=norm, stop_when_fooled=False),
                   FastFGSM(eps, norm=norm)):
        adv = method.perturb(model, x, y, torch.Generator().manual_seed(0))
        dist = method.attack.norm.distance(adv - x)
        assert (dist <= eps * (1 + 1e-5) + 1e-6).all(), (norm, type(method).__name__, dist.max())
        assert adv.min() >= 0 and adv.max() <= 1
        assert F.cross_entropy(model(adv), y) > F.cross_entropy(model(x), y)


def test_pgd_training_matches_an_independent_stop_when_fooled_loop(digits):
    """Wong et al.'s loop by hand (no random start, so no randomness): same batch, bit for bit."""
    model = _mlp(digits)
    fit(model, digits, epochs=2, lr=1e-2, batch_size=64, quiet=True, probe=False)
    x, y, eps, step = digits.x_test[:80], digits.y_test[:80], 0.1, 0.03
    ref = x.clone()
    for _ in range(4):
        xr = ref.clone().requires_grad_(True)
        logits = model(xr)
        (g,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), xr)
        right = (logits.argmax(1) == y).reshape(-1, 1, 1, 1)
        moved = torch.min(torch.max(ref + step * g.sign(), x - eps), x + eps).clamp(0, 1)
        ref = torch.where(right, moved, ref)
    ours = PGDAdversarial(eps, steps=4, stepsize=step, random_start=False).perturb(model, x, y)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


def test_fgsm_method_reuses_the_clean_pass_and_equals_the_fgsm_attack(digits):
    model = _mlp(digits)
    fit(model, digits, epochs=2, lr=1e-2, batch_size=64, quiet=True, probe=False)
    model.eval()
    x, y = digits.x_test[:50], digits.y_test[:50]
    calls = []
    handle = model.net.register_forward_hook(lambda *_: calls.append(1))
    FGSMAdversarial(0.1).batch_loss(model, x, y)
    handle.remove()
    assert len(calls) == 2  # the clean pass gives J(x, y) and ∇ₓJ; one more for the adversarial batch
    verified = FGSM()(model, x, y, eps=0.1).adversarials[0]
    torch.testing.assert_close(FGSMAdversarial(0.1).perturb(model, x, y), verified)


def test_hidden_layer_training_perturbs_the_activation_and_trains_every_layer(digits):
    model = _mlp(digits)
    before, after = split_at(model.net, "features")
    x, y = digits.x_train[:32], digits.y_train[:32]
    torch.testing.assert_close(after(before(x)), model(x))
    model.train()
    out = FGSMAdversarial(0.5, alpha=0.0, layer="features").batch_loss(model, x, y)
    h = before(x).detach()
    assert out.loss > F.cross_entropy(after(h), y)  # the perturbed activation costs more
    out.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="no submodule"):
        FGSMAdversarial(0.1, layer="nope").batch_loss(model, x, y)
    with pytest.raises(ValueError, match="last layer"):
        FGSMAdversarial(0.1, layer="head").batch_loss(model, x, y)


def test_probe_keeps_and_restores_the_best_robust_epoch(digits, tmp_path):
    model = _mlp(digits)
    probe = RobustProbe(PGD(steps=5), eps=0.1, size=100)

    def sabotage(state):
        if state.epoch == 2:  # after epoch 2, the weights are destroyed
            with torch.no_grad():
                for p in state.model.parameters():
                    p.mul_(0.0)

    history = fit(model, digits, method=FGSMAdversarial(0.1), epochs=3, lr=1e-2, batch_size=64, quiet=True,
                  probe=probe, callbacks=[sabotage], checkpoint_dir=tmp_path)
    probes = [e.probe_accuracy for e in history.epochs]
    assert all(p is not None for p in probes)
    cp = history.robust_checkpoint
    assert cp is not None and cp["epoch"] <= 2 and cp["restored"] is True
    assert cp["probe_accuracy"] == max(probes[:2])
    assert any(p.abs().sum() > 0 for p in model.parameters())  # the sabotaged weights were replaced
    assert history.config["probe"]["size"] == 100


def test_probe_default_only_for_robust_methods_on_enough_data(digits):
    small = fit(_mlp(digits), digits, method=FastFGSM(0.1), epochs=1, quiet=True)
    assert small.robust_checkpoint is None  # 600 images < 10 × 500
    forced = fit(_mlp(digits), digits, method=FastFGSM(0.1), epochs=1, quiet=True,
                 probe=RobustProbe(PGD(steps=3), eps=0.1, size=50))
    assert forced.robust_checkpoint is not None and forced.config.get("probe", {}).get("size") == 50
    with pytest.raises(ValueError, match="no robustness probe"):
        fit(_mlp(digits), digits, epochs=1, quiet=True, probe=True)


class _MaskedFGSM(RobustProbe):
    """A probe whose 'FGSM' does not move (as FGSM does on a gradient-masked model)."""

    def fgsm_accuracy(self, model, x, y, generator):
        return self.accuracy(model, x, y, generator, PGD(steps=1, stepsize=1e-9, random_start=False))


def test_gradient_masking_warning_when_fgsm_far_above_pgd(digits):
    model = _mlp(digits)
    fit(model, digits, epochs=3, lr=1e-2, batch_size=64, quiet=True, probe=False)
    masked = _MaskedFGSM(PGD(steps=10), eps=0.5, size=100, fgsm_gap=0.2)
    with pytest.warns(UserWarning, match="gradient masking"):
        history = fit(model, digits, method=FGSMAdversarial(0.1, alpha=1.0), epochs=1, lr=1e-4, quiet=True, probe=masked)
    cp = history.robust_checkpoint
    assert cp["gradient_masking_warning"] is True and cp["fgsm_accuracy"] - cp["probe_accuracy"] > 0.2
    honest = RobustProbe(PGD(steps=10), eps=0.5, size=100, fgsm_gap=0.2)
    history = fit(model, digits, method=FGSMAdversarial(0.1, alpha=1.0), epochs=1, lr=1e-4, quiet=True, probe=honest)
    assert history.robust_checkpoint["gradient_masking_warning"] is False


def test_resume_with_probe_and_generator_is_bit_identical(digits, tmp_path):
    class Stop(Exception):
        pass

    def stop_after_1(state):
        if state.epoch == 1:
            raise Stop

    probe = RobustProbe(PGD(steps=2), eps=0.1, size=100)
    full = _mlp(digits)
    fit(full, digits, method=FastFGSM(0.1), epochs=3, quiet=True, probe=probe, checkpoint_dir=tmp_path / "a")
    part = _mlp(digits)
    with pytest.raises(Stop):
        fit(part, digits, method=FastFGSM(0.1), epochs=3, quiet=True, probe=probe, checkpoint_dir=tmp_path / "b",
            callbacks=[stop_after_1])
    resumed = _mlp(digits)
    fit(resumed, digits, method=FastFGSM(0.1), epochs=3, quiet=True, probe=probe, checkpoint_dir=tmp_path / "b",
        resume=True)
    assert _same(_weights(full), _weights(resumed))


def test_cli_defaults_come_from_the_method():
    for name in ("fast", "pgd"):
        method = METHODS.create(name, eps=0.3)
        assert method.recommended == {"epochs": 10, "batch_size": 100, "lr": 5e-3, "schedule": "cyclic"}
    assert METHODS.create("fgsm", eps=0.1).recommended == {}


def test_bad_attack_for_adversarial_is_refused():
    from advlab.attacks import DeepFool

    with pytest.raises(TypeError, match="Attack"):
        Adversarial(attack="pgd", eps=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="minimisation"):
        Adversarial(attack=DeepFool(), eps=0.1)
    with pytest.raises(ValueError, match="layer"):
        FGSMAdversarial(0.1, layer="")
