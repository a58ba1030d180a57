"""Catalogue, data folder resolution and argument validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlab import data


def test_list_and_info() -> None:
    infos = {i.name: i for i in data.list_datasets()}
    assert set(infos) == {"iris", "digits", "moons", "blobs", "mnist", "fashion-mnist", "cifar10"}
    assert infos["iris"].kind == "embedded" and infos["mnist"].kind == "downloaded"
    assert data.info("Fashion_MNIST").classes[-1] == "Ankle boot"
    assert data.info("cifar10").input_shape == (3, 32, 32)
    assert data.info("mnist").files == (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )


def test_data_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ADVLAB_DATA", raising=False)
    assert data.data_dir() == Path("~/.cache/advlab/data").expanduser()
    monkeypatch.setenv("ADVLAB_DATA", str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_unknown_name_lists_known() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset .imagenet.; expected one of \[.*.digits.*.iris.*\]"):
        data.load("imagenet")


def test_fetch_of_embedded_is_refused() -> None:
    with pytest.raises(ValueError, match="embedded"):
        data.fetch("iris")


@pytest.mark.parametrize(
    ("classes", "match"),
    [
        ([0, 10], "index 10 out of range"),
        (["cat"], "unknown entry 'cat'"),
        ([1, 1], "given twice"),
        ([], "at least one"),
        ("0", "sequence"),
        ([True], "unknown entry True"),
    ],
)
def test_bad_classes(classes: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        data.load("digits", classes=classes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "features", "match"),
    [
        ("iris", ["petal height"], "unknown entry 'petal height'.*'petal length'"),
        ("iris", [4], "out of range"),
        ("iris", ["petal width", 3], "given twice"),
        ("digits", [0], "not named tabular columns"),
    ],
)
def test_bad_features(name: str, features: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        data.load(name, features=features)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
        ({"limit_train": -1}, ValueError, "limit_train"),
        ({"limit_test": 2.5}, ValueError, "limit_test"),
        ({"seed": "x"}, ValueError, "seed"),
        ({"noise": 0.1}, TypeError, "unknown option.*noise.*accepted: test_fraction, seed"),
    ],
)
def test_bad_options(options: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        data.load("iris", **options)
