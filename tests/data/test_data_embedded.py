"""Embedded datasets: iris, digits, moons, blobs."""

from __future__ import annotations

import pytest
import torch

from advlab import data


def _check_common(ds: data.Dataset) -> None:
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.dtype == torch.float32
        assert y.dtype == torch.int64
        assert x.shape[1:] == ds.input_shape
        assert x.shape[0] == y.shape[0]
        assert bool(ds.bounds.contains(x).all())
        if len(y):
            assert 0 <= int(y.min()) and int(y.max()) < ds.num_classes


def test_iris_shapes_bounds_and_names() -> None:
    ds = data.load("iris")
    _check_common(ds)
    assert ds.x_train.shape == (120, 4) and ds.x_test.shape == (30, 4)
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.feature_names == ("sepal length", "sepal width", "petal length", "petal width")
    assert ds.bounds.lower.tolist() == [0.0] * 4 and ds.bounds.upper.tolist() == [10.0] * 4
    # stratified: 10 test flowers per species
    assert torch.bincount(ds.y_test).tolist() == [10, 10, 10]
    x, y = ds.all()
    assert x.shape == (150, 4) and torch.bincount(y).tolist() == [50, 50, 50]


@pytest.mark.parametrize("features", [("petal length", "petal width"), ("petal_length", "Petal_Width"), (2, 3)])
def test_iris_petal_features(features: tuple[str | int, ...]) -> None:
    full = data.load("iris")
    ds = data.load("iris", features=features)
    assert ds.feature_names == ("petal length", "petal width")
    assert ds.input_shape == (2,) and ds.x_train.shape == (120, 2)
    assert ds.bounds.lower.shape == (2,)
    torch.testing.assert_close(ds.x_train, full.x_train[:, 2:])


def test_iris_feature_order_follows_request() -> None:
    ds = data.load("iris", features=("petal width", 0))
    assert ds.feature_names == ("petal width", "sepal length")


def test_iris_test_fraction_zero_keeps_all_in_train() -> None:
    ds = data.load("iris", test_fraction=0.0)
    assert ds.x_train.shape == (150, 4) and ds.x_test.shape == (0, 4) and ds.y_test.shape == (0,)


def test_digits_shapes_and_scaling() -> None:
    ds = data.load("digits")
    _check_common(ds)
    assert ds.x_train.shape == (1437, 1, 8, 8) and ds.x_test.shape == (360, 1, 8, 8)
    assert ds.class_names == tuple(str(d) for d in range(10))
    assert float(ds.x_train.max()) == 1.0 and float(ds.x_train.min()) == 0.0
    # values are k/16
    assert torch.equal(ds.x_train * 16, (ds.x_train * 16).round())


def test_digits_class_subset_relabels() -> None:
    ds = data.load("digits", classes=[0, 1, 2, 3])
    assert ds.num_classes == 4 and ds.class_names == ("0", "1", "2", "3")
    assert set(ds.y_train.tolist()) == {0, 1, 2, 3}
    reordered = data.load("digits", classes=["3", "0"])
    assert reordered.class_names == ("3", "0")
    full = data.load("digits")
    keep = (full.y_test == 3) | (full.y_test == 0)
    torch.testing.assert_close(reordered.x_test, full.x_test[keep])
    assert reordered.y_test.tolist() == [0 if int(y) == 3 else 1 for y in full.y_test[keep]]


@pytest.mark.parametrize("name", ["iris", "digits", "moons", "blobs"])
def test_split_is_deterministic(name: str) -> None:
    a, b = data.load(name), data.load(name)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    c = data.load(name, seed=1)
    assert not torch.equal(a.x_train, c.x_train)


@pytest.mark.parametrize(("name", "n_classes"), [("moons", 2), ("blobs", 3)])
def test_synthetic_sets(name: str, n_classes: int) -> None:
    ds = data.load(name)
    _check_common(ds)
    assert ds.input_shape == (2,) and ds.num_classes == n_classes
    assert "padded" in str(ds.info["bounds_note"])
    x, _ = ds.all()
    # padding: the data does not touch the box
    assert bool((x.min(0).values > ds.bounds.lower).all()) and bool((x.max(0).values < ds.bounds.upper).all())
    small = data.load(name, n_samples=50, noise=0.05, seed=3)
    assert small.x_train.shape[0] + small.x_test.shape[0] == 50
    assert small.info["noise"] == 0.05


def test_limits_apply_after_class_subset() -> None:
    ds = data.load("digits", classes=[7, 1], limit_train=5, limit_test=0)
    assert ds.x_train.shape == (5, 1, 8, 8) and ds.x_test.shape == (0, 1, 8, 8)
    assert set(ds.y_train.tolist()) <= {0, 1}
