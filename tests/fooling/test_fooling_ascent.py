"""Gradient ascent from noise, white-box and NES (score-based), against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlab.fooling import GradientAscent, NESAscent, total_variation
from advlab.fooling.ascent import nes_gradient
from advlab.models import wrap

from .conftest import best_corner


def test_every_class_reaches_the_confidence_its_corner_allows(linear):
    for k in range(3):  # the set-up: each class can reach p > 0.999 inside the box
        assert float(linear.predict_proba(best_corner(linear, k)[None])[0, k]) > 0.999
    result = GradientAscent(steps=300, lr=0.2)(linear, required=0.999, seed=0)
    assert bool(result.success.all())
    assert float(result.images.min()) >= 0.0 and float(result.images.max()) <= 1.0
    # a row stops when it gets there: one query per step plus the final check
    assert bool((result.queries == result.steps + 1).all()) and int(result.steps.max()) < 300


def test_unreachable_confidence_uses_the_whole_budget(linear):
    result = GradientAscent(steps=20)(linear, [1], required=0.999999999, seed=0)
    assert result.steps.tolist() == [20] and not bool(result.success.any())


def test_starts_are_batched_and_the_best_start_is_kept(linear):
    one = GradientAscent(steps=3, lr=0.05, starts=1)(linear, required=0.99999, seed=0)
    many = GradientAscent(steps=3, lr=0.05, starts=6)(linear, required=0.99999, seed=0)
    assert bool((many.target_confidences >= one.target_confidences - 1e-6).all())
    assert bool((many.queries == 6 * one.queries).all())


def test_l2_keeps_the_image_near_its_start(linear):
    free = GradientAscent(steps=60, lr=0.3)(linear, required=0.9999999, seed=3)
    tied = GradientAscent(steps=60, lr=0.3, l2=50.0)(linear, required=0.9999999, seed=3)
    start = GradientAscent(steps=1, lr=1e-9)(linear, required=0.9999999, seed=3).images
    assert float((tied.images - start).norm()) < float((free.images - start).norm())


def test_total_variation_matches_its_definition():
    x = torch.tensor([[[[0.0, 1.0], [1.0, 1.0]]]])
    # vertical differences: |1-0|, |1-1| → mean 0.5; horizontal: |1-0|, |1-1| → mean 0.5
    assert float(total_variation(x)[0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tv regularisation needs image"):
        GradientAscent(steps=2, tv=1.0)(wrap(torch.nn.Linear(3, 2), bounds=(0, 1), classes=2, input_shape=(3,)))


def test_nes_estimate_converges_to_the_true_gradient():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(2, 16, generator=gen)
    z = torch.randn(2, 16, generator=gen)
    value, grad = nes_gradient(lambda zz, r: (zz * a[r]).sum(1), z, torch.tensor([0, 1]), 4000, 0.1, gen)
    torch.testing.assert_close(value, (z * a).sum(1))
    cos = torch.nn.functional.cosine_similarity(grad, a, dim=1)
    assert bool((cos > 0.97).all())


def test_nes_fools_a_black_box_that_gradient_ascent_cannot_touch(linear):
    def probabilities(x: np.ndarray) -> np.ndarray:  # NumPy in, probabilities out
        return linear.predict_proba(torch.as_tensor(x)).double().numpy()

    box = wrap(probabilities, bounds=(0.0, 1.0), classes=3, input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="black box"):
        GradientAscent(steps=5)(box)
    result = NESAscent(steps=100, lr=0.2, samples=10)(box, required=0.99, seed=0)
    assert bool(result.success.all())
    assert bool((result.queries == (result.steps + 1) * 21).all())


def test_nes_tiling_searches_a_coarse_image(linear):
    nes = NESAscent(steps=30, lr=0.3, samples=8, tile=2)
    lo, hi = torch.zeros(1, 4, 4), torch.ones(1, 4, 4)
    z = nes.from_input(torch.rand(3, 1, 4, 4), lo, hi)
    assert z.shape == (3, 1, 2, 2)
    x = nes.to_input(z, lo, hi)
    assert x.shape == (3, 1, 4, 4)
    torch.testing.assert_close(x[:, :, :2, :2], x[:, :, :1, :1].expand(3, 1, 2, 2))  # one value per 2×2 tile
    result = nes(linear, required=0.9, seed=0)
    images = result.images
    torch.testing.assert_close(images[:, :, ::2, ::2], images[:, :, 1::2, 1::2])
    with pytest.raises(ValueError, match="tile > 1 needs image"):
        NESAscent(tile=2)(wrap(torch.nn.Linear(3, 2), bounds=(0, 1), classes=2, input_shape=(3,)))
