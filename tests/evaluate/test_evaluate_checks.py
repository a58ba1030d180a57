"""Sanity checks: a properly trained model passes; a model with binarised inputs (masked gradients) is warned about."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import APGD, Attack
from advlab.evaluate.checks import (
    decide_blackbox,
    decide_converged,
    decide_iterative,
    decide_noise,
    sanity_checks,
)


class RandomSearch(Attack):
    """A black-box attack for the test: the best of 20 random corners of the L∞ ball."""

    name = "random-search"
    needs_gradient = False

    def run(self, model, x, y, *, eps, target, generator):
        out = x.clone()
        with torch.no_grad():
            for _ in range(20):
                cand = model.bounds.clip(x + eps[:, None, None, None] * torch.randn(x.shape, generator=generator).sign())
                hit = model(cand).argmax(1) != y
                out[hit] = cand[hit]
        return out


@pytest.fixture(scope="module")
def reports(digits_model, binarised_model):
    model, x, y = digits_model
    kw = {"steps": 20, "blackbox": RandomSearch(), "seed": 0}
    return sanity_checks(model, x, y, 0.1, **kw), sanity_checks(binarised_model, x, y, 0.1, **kw)


def test_properly_trained_model_passes(reports):
    good, _ = reports
    assert good.passed, str(good)
    assert {c.name for c in good.checks} == {"large_eps", "iterative", "converged", "blackbox", "noise", "gradients", "targeted"}


def test_masked_gradients_are_caught(reports):
    _, bad = reports
    assert not bad.passed
    warned = {c.name for c in bad.warnings}
    assert {"gradients", "large_eps", "targeted", "blackbox"} <= warned, str(bad)
    for c in bad.warnings:
        assert c.message.endswith(".") and "\n" not in c.message


def test_decisions_on_measured_numbers():
    # Single step beating the iterative attack; more steps still helping; noise or black box beating the attack.
    assert decide_iterative(0.40, 0.60, 100).status == "warn" and decide_iterative(0.6, 0.4, 100).status == "pass"
    assert decide_converged(0.50, 0.30, 100).status == "warn" and decide_converged(0.5, 0.5, 100).status == "pass"
    assert decide_noise(0.2, 0.5, 100).status == "warn" and decide_noise(0.9, 0.5, 100).status == "pass"
    assert decide_blackbox(0.2, 0.5, 100).status == "warn" and decide_blackbox(0.6, 0.5, 100).status == "pass"
    # Differences within one input are noise.
    assert decide_converged(0.50, 0.495, 100).status == "pass"


def test_unconverged_attack_is_caught(digits_model):
    """A 1-step 'iterative' attack is far from converged: the converged check warns."""
    model, x, y = digits_model
    report = sanity_checks(model, x, y, 0.1, steps=1, seed=0)
    assert report["converged"].status == "warn", str(report)
    with pytest.raises(ValueError):
        sanity_checks(model, x, y, 0.1, norm="l0")
    assert isinstance(APGD(), Attack)
