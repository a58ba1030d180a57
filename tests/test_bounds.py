"""``Bounds``: construction, clipping, membership, per-feature boxes, validation."""

from __future__ import annotations

import pytest
import torch

from advlab.bounds import Bounds


def test_of_scalar_pair() -> None:
    b = Bounds.of((0, 1))
    assert b.is_scalar and b.lower.item() == 0.0 and b.upper.item() == 1.0
    assert b.lower.dtype == torch.float32
    assert Bounds.of(b) is b
    assert Bounds.of([0.0, 255.0]).upper.item() == 255.0
    assert Bounds.of({"lower": -1, "upper": 1}).to_json() == [-1.0, 1.0]
    assert repr(b) == "Bounds(0, 1)"


def test_of_copies_its_input() -> None:
    lo = torch.zeros(3)
    b = Bounds.of((lo, torch.ones(3)))
    lo[0] = 5.0
    assert b.lower[0].item() == 0.0


def test_clip_and_contains_scalar() -> None:
    b = Bounds.of((0, 1))
    x = torch.tensor([[-0.5, 0.5], [0.2, 1.5], [0.0, 1.0]])
    assert torch.equal(b.clip(x), torch.tensor([[0.0, 0.5], [0.2, 1.0], [0.0, 1.0]]))
    assert b.contains(x).tolist() == [False, False, True]
    assert b.contains(b.clip(x)).all()
    # tolerance: a hair outside counts as inside, a clear step does not
    assert b.contains(torch.tensor([[1.0 + 1e-7, 0.0]])).all()
    assert not b.contains(torch.tensor([[1.0 + 1e-3, 0.0]])).any()
    assert b.contains(torch.tensor([[1.0 + 1e-3, 0.0]]), atol=1e-2).all()


def test_contains_is_per_sample_for_images() -> None:
    b = Bounds.of((0, 1))
    x = torch.rand(4, 1, 5, 5)
    x[2, 0, 3, 3] = 1.2
    assert b.contains(x).tolist() == [True, True, False, True]


def test_per_feature_bounds() -> None:
    b = Bounds.of(([0, -1, 10], [1, 1, 20]))
    assert not b.is_scalar
    x = torch.tensor([[2.0, -3.0, 15.0], [0.5, 0.0, 25.0]])
    assert torch.equal(b.clip(x), torch.tensor([[1.0, -1.0, 15.0], [0.5, 0.0, 20.0]]))
    assert b.contains(x).tolist() == [False, False]
    assert b.contains(b.clip(x)).all()
    assert torch.equal(b.center((3,)), torch.tensor([0.5, 0.0, 15.0]))
    assert torch.equal(b.width((3,)), torch.tensor([1.0, 2.0, 10.0]))
    u = b.uniform(500, (3,), torch.Generator().manual_seed(0))
    assert u.shape == (500, 3) and b.contains(u).all()
    assert u[:, 2].min() > 10 and u[:, 2].max() < 20 and u[:, 2].std() > 2  # spread over the whole box


def test_clip_keeps_dtype_and_device() -> None:
    b = Bounds.of((0, 1))
    x = torch.tensor([[2.0, -1.0]], dtype=torch.float64)
    assert b.clip(x).dtype == torch.float64


def test_scalar_center_uniform_and_json_round_trip() -> None:
    b = Bounds.of((-1, 3))
    assert torch.equal(b.center((1, 2, 2)), torch.ones(1, 2, 2))
    u = b.uniform(10, (1, 2, 2), torch.Generator().manual_seed(0))
    assert u.shape == (10, 1, 2, 2) and b.contains(u).all()
    same = Bounds.of(tuple(b.to_json()))
    assert torch.equal(same.lower, b.lower) and torch.equal(same.upper, b.upper)
    per = Bounds.of(([0, 1], [2, 3]))
    assert Bounds.of(per.to_json()).to_json() == [[0.0, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ((1, 0), "below its upper"),
        ((1, 1), "below its upper"),
        (([0, 2], [1, 1]), "below its upper"),
        ((float("nan"), 1), "finite"),
        ((0, float("inf")), "finite"),
        (([0, 0], [1, 1, 1]), "same shape"),
    ],
)
def test_invalid_bounds_raise_value_error(value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Bounds.of(value)


@pytest.mark.parametrize("value", [1.0, (0, 1, 2), "0,1", None])
def test_not_a_pair_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="expected \\(lower, upper\\)"):
        Bounds.of(value)
