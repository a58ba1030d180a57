"""Property tests for the norms: projections, steepest directions and random starts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from advlab.attacks.norms import L1, L2, LInf, get_norm

NORMS = [LInf(), L2(), L1()]
SETTINGS = settings(max_examples=60, deadline=None)

finite = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def batches(draw: st.DrawFn, max_d: int = 6) -> torch.Tensor:
    n = draw(st.integers(1, 4))
    d = draw(st.integers(1, max_d))
    values = draw(st.lists(finite, min_size=n * d, max_size=n * d))
    return torch.tensor(values, dtype=torch.float64).reshape(n, d)


radii = st.floats(0.0, 6.0, allow_nan=False, width=32)


def l1_projection_reference(v: np.ndarray, eps: float) -> np.ndarray:
    """Soft-thresholding at the θ found by root finding (a different algorithm from the sort-based one)."""
    if np.abs(v).sum() <= eps:
        return v
    theta = brentq(lambda t: np.maximum(np.abs(v) - t, 0).sum() - eps, 0.0, np.abs(v).max())
    return np.sign(v) * np.maximum(np.abs(v) - theta, 0)


@pytest.mark.parametrize("norm", NORMS, ids=lambda n: n.name)
@SETTINGS
@given(delta=batches(), eps=radii)
def test_project_lands_in_ball_and_is_idempotent(norm, delta: torch.Tensor, eps: float) -> None:
    p = norm.project(delta, eps)
    assert (norm.distance(p) <= eps * (1 + 1e-9) + 1e-9).all()
    torch.testing.assert_close(norm.project(p, eps), p, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("norm", NORMS, ids=lambda n: n.name)
@SETTINGS
@given(delta=batches())
def test_project_is_identity_inside_ball(norm, delta: torch.Tensor) -> None:
    eps = norm.distance(delta) * 1.01 + 1e-6  # per-sample radii, each just above the point's norm
    torch.testing.assert_close(norm.project(delta, eps), delta)


@pytest.mark.parametrize("norm", [L2(), L1()], ids=lambda n: n.name)
@SETTINGS
@given(delta=batches(), eps=radii, seed=st.integers(0, 2**16))
def test_project_is_the_euclidean_nearest_point(norm, delta: torch.Tensor, eps: float, seed: int) -> None:
    p = norm.project(delta, eps)
    for i, v in enumerate(delta.numpy()):
        if norm.name == "l1":
            np.testing.assert_allclose(p[i].numpy(), l1_projection_reference(v, eps), atol=1e-7)
        else:
            n = np.linalg.norm(v)
            np.testing.assert_allclose(p[i].numpy(), v if n <= eps else v * eps / n, atol=1e-9)
    # No point of the ball is closer than the projection (sampled check, independent of any formula).
    others = norm.random(delta.repeat(200, 1), eps, torch.Generator().manual_seed(seed))
    gap = (delta.repeat(200, 1) - others).norm(dim=1) - (delta - p).norm(dim=1).repeat(200)
    assert (gap >= -1e-9).all()


@SETTINGS
@given(eps=st.lists(st.floats(0.0, 3.0, width=32), min_size=3, max_size=3), delta=batches())
def test_project_accepts_per_sample_radii(eps: list[float], delta: torch.Tensor) -> None:
    delta = delta[:1].repeat(3, 1)
    radii_t = torch.tensor(eps, dtype=delta.dtype)
    for norm in NORMS:
        p = norm.project(delta, radii_t)
        for i in range(3):
            torch.testing.assert_close(p[i], norm.project(delta[i : i + 1], eps[i])[0])


@SETTINGS
@given(grad=batches())
def test_linf_steepest_maximises_over_cube_vertices(grad: torch.Tensor) -> None:
    d = LInf().steepest(grad)
    nonzero = grad.abs() > 0
    assert (d.abs()[nonzero] == 1).all()
    vertices = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=grad.shape[1])), dtype=grad.dtype)
    best = (grad @ vertices.T).amax(dim=1)
    torch.testing.assert_close((grad * d).sum(dim=1), best)


@SETTINGS
@given(grad=batches(), seed=st.integers(0, 2**16))
def test_l2_steepest_is_unit_and_beats_every_unit_vector(grad: torch.Tensor, seed: int) -> None:
    grad = grad[grad.norm(dim=1) > 1e-3]
    if len(grad) == 0:
        return
    d = L2().steepest(grad)
    torch.testing.assert_close(d.norm(dim=1), torch.ones(len(grad), dtype=grad.dtype))
    torch.testing.assert_close((grad * d).sum(dim=1), grad.norm(dim=1))
    u = torch.randn(500, grad.shape[1], generator=torch.Generator().manual_seed(seed), dtype=grad.dtype)
    u = u / u.norm(dim=1, keepdim=True)
    assert ((grad @ u.T) <= (grad * d).sum(dim=1, keepdim=True) + 1e-9).all()


@SETTINGS
@given(grad=batches(max_d=12), sparsity=st.floats(0.0, 1.0))
def test_l1_sparse_steepest_is_unit_and_one_hot_at_full_sparsity(grad: torch.Tensor, sparsity: float) -> None:
    grad = grad[grad.abs().amax(dim=1) > 0]
    if len(grad) == 0:
        return
    norm = L1()
    d = norm.sparse_steepest(grad, sparsity)
    torch.testing.assert_close(d.abs().sum(dim=1), torch.ones(len(grad), dtype=grad.dtype))
    assert ((grad * d) >= 0).all()  # never against the gradient
    exact = norm.sparse_steepest(grad, 1.0)
    # Full sparsity reaches the maximum of ⟨g, d⟩ over the L1 ball's vertices ±e_i: ‖g‖∞.
    torch.testing.assert_close((grad * exact).sum(dim=1), grad.abs().amax(dim=1))
    assert ((grad * d).sum(dim=1) <= grad.abs().amax(dim=1) + 1e-12).all()


def test_l1_sparse_steepest_skips_immovable_coordinates() -> None:
    grad = torch.tensor([[5.0, -4.0, 1.0, 0.5]])
    movable = torch.tensor([[False, True, True, True]])
    d = L1().sparse_steepest(grad, 1.0, movable)
    torch.testing.assert_close(d, torch.tensor([[0.0, -1.0, 0.0, 0.0]]))


@pytest.mark.parametrize("norm", NORMS, ids=lambda n: n.name)
@SETTINGS
@given(delta=batches(max_d=20), eps=radii, seed=st.integers(0, 2**16))
def test_random_lies_in_ball(norm, delta: torch.Tensor, eps: float, seed: int) -> None:
    r = norm.random(delta, eps, torch.Generator().manual_seed(seed))
    assert r.shape == delta.shape
    assert (norm.distance(r) <= eps * (1 + 1e-6) + 1e-12).all()


@pytest.mark.parametrize("norm", NORMS, ids=lambda n: n.name)
def test_random_is_seeded_and_fills_the_ball(norm) -> None:
    like = torch.zeros(2000, 3, dtype=torch.float64)
    a = norm.random(like, 1.0, torch.Generator().manual_seed(1))
    b = norm.random(like, 1.0, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    # Uniform in a 3-D ball: P(‖r‖ ≤ ½) = (½)³ = 1/8 for every norm.
    assert abs((norm.distance(a) <= 0.5).double().mean().item() - 0.125) < 0.03


def test_get_norm_aliases_and_errors() -> None:
    assert get_norm("Linf").name == "linf" and get_norm("inf").name == "linf" and get_norm("2").name == "l2"
    with pytest.raises(ValueError, match="unknown norm"):
        get_norm("l3")
    with pytest.raises(ValueError, match="sparsity"):
        L1().sparse_steepest(torch.ones(1, 3), 1.5)
