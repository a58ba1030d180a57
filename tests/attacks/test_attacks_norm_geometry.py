"""Norms own their geometry: dual norm, sphere and ball sampling, feasible set, default step, random start;
and the attacks' low-level entry ``perturb`` (raw, unverified, generator-driven)."""

from __future__ import annotations

import math

import pytest
import torch

from advlab.attacks import PGD, get_norm
from advlab.attacks.norms import NORMS
from advlab.bounds import Bounds
from advlab.models import build

BOX = Bounds.of((0.0, 1.0))


@pytest.mark.parametrize("name", ["linf", "l2", "l1"])
def test_dual_norm_is_the_max_of_the_inner_product_over_the_unit_ball(name):
    norm = get_norm(name)
    g = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(0))
    # the steepest direction has unit norm and attains the dual norm (L1: the dense L1-normalised
    # gradient is not the maximiser, the one-hot sparse step is)
    d = norm.sparse_steepest(g, sparsity=1.0) if name == "l1" else norm.steepest(g)
    torch.testing.assert_close(norm.distance(d), torch.ones(5))
    torch.testing.assert_close((g * d).flatten(1).sum(1), norm.dual(g))
    # and no random unit vector beats it
    r = norm.sphere(torch.zeros(200, 3, 4), 1.0, torch.Generator().manual_seed(1))
    assert ((r.flatten(1) @ g[0].flatten()) <= norm.dual(g[:1]) + 1e-5).all()


@pytest.mark.parametrize("name", ["linf", "l2", "l1", "l0"])
def test_sphere_points_have_exactly_the_radius_and_differ_by_seed(name):
    norm = get_norm(name)
    like = torch.zeros(6, 1, 5, 5)
    radius = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    a = norm.sphere(like, radius, torch.Generator().manual_seed(0))
    torch.testing.assert_close(norm.distance(a), radius)
    assert not torch.equal(a, norm.sphere(like, radius, torch.Generator().manual_seed(1)))
    assert torch.equal(a, norm.sphere(like, radius, torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("name", ["linf", "l2", "l1"])
def test_ball_samples_stay_inside_and_fill_it(name):
    norm = get_norm(name)
    pts = norm.random(torch.zeros(4000, 2), 1.0, torch.Generator().manual_seed(0))
    d = norm.distance(pts)
    assert (d <= 1 + 1e-6).all()
    # uniform in a 2-D ball: P(‖δ‖ ≤ r) = r², so the median radius is 1/√2
    assert abs(d.median().item() - 1 / math.sqrt(2)) < 0.03


@pytest.mark.parametrize("name", ["linf", "l2", "l1"])
def test_feasible_set_is_the_ball_inside_the_bounds(name):
    norm = get_norm(name)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(50, 10, generator=g)
    far = x + 5 * torch.randn(50, 10, generator=g)
    p = norm.clip_to_feasible(x, far, 0.5, BOX)
    assert (norm.distance(p - x) <= 0.5 + 1e-5).all() and p.min() >= 0 and p.max() <= 1
    inside = norm.clip_to_feasible(x, x, 0.5, BOX)
    torch.testing.assert_close(inside, x)


def test_default_step_grows_for_fewer_steps_and_matches_madry_at_40():
    linf = get_norm("linf")
    assert linf.default_rel_stepsize(40) * 0.3 == pytest.approx(0.01)
    assert linf.default_rel_stepsize(10) * 0.3 == pytest.approx(0.04)
    assert get_norm("l2").default_rel_stepsize(40) == pytest.approx(0.1)
    assert all(n.default_eps > 0 for n in NORMS.values())


def test_unclipped_random_start_leaves_the_box_clipped_does_not():
    x = torch.zeros(100, 16)
    g = torch.Generator().manual_seed(0)
    unclipped = get_norm("linf").random_start(x, 0.3, BOX, g, clip=False)
    clipped = get_norm("linf").random_start(x, 0.3, BOX, g)
    assert unclipped.min() < -0.2 and clipped.min() >= 0


def test_low_level_perturb_keeps_the_mode_and_equals_the_verified_call():
    model = build("mlp", input_shape=(1, 8, 8), classes=4, widths=[16], seed=0)
    x = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = model.predict(x)
    attack = PGD(steps=5)
    model.train()
    raw = attack.perturb(model, x, y, eps=0.2, generator=torch.Generator().manual_seed(3))
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())
    verified = attack(model, x, y, eps=0.2, seed=3).adversarials[0]
    torch.testing.assert_close(raw, verified)  # __call__ seeds a generator the same way
    per_sample = attack.perturb(model, x, y, eps=torch.full((20,), 0.2), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(per_sample, raw)
