"""What datasets exist: their descriptions, and for downloaded ones their files, checksums and mirrors.

This module is plain data. Loaders look files and checksums up here at call
time, so a test can swap an entry (``monkeypatch.setitem(REMOTE, ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from advlab.registry import Registry

DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
IRIS_FEATURES = ("sepal length", "sepal width", "petal length", "petal width")


@dataclass(frozen=True)
class DatasetInfo:
    """One line of the catalogue: what ``load(name)`` returns before any subset."""

    name: str
    kind: Literal["embedded", "downloaded"]
    description: str
    input_shape: tuple[int, ...]
    classes: tuple[str, ...]
    feature_names: tuple[str, ...] | None = None
    files: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class RemoteFile:
    """A canonical distribution file: its name, MD5 and size in bytes (None if unknown)."""

    name: str
    md5: str
    size: int | None = None


@dataclass(frozen=True)
class RemoteSource:
    """The files of one downloaded dataset and the mirrors that serve them, tried in order."""

    name: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]

    def file(self, name: str) -> RemoteFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}: no file named {name!r}")

    def with_file(self, name: str, md5: str, size: int | None = None) -> RemoteSource:
        """A copy where file ``name`` has another checksum (tests use small stand-in files)."""
        self.file(name)  # unknown names fail loudly rather than being ignored
        files = tuple(replace(f, md5=md5, size=size) if f.name == name else f for f in self.files)
        return replace(self, files=files)


def _idx_files(md5s: tuple[str, str, str, str], sizes: tuple[int, int, int, int]) -> tuple[RemoteFile, ...]:
    names = (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )
    return tuple(RemoteFile(n, m, s) for n, m, s in zip(names, md5s, sizes, strict=True))


REMOTE: dict[str, RemoteSource] = {
    "mnist": RemoteSource(
        "mnist",
        _idx_files(
            (
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "9fb629c4189551a2d022fa330f9573f3",
                "ec29112dd5afa0611ce80d1b7f02629c",
            ),
            (9912422, 28881, 1648877, 4542),
        ),
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": RemoteSource(
        "fashion-mnist",
        _idx_files(
            (
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ),
            (26421880, 29515, 4422102, 5148),
        ),
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ),
    ),
    "cifar10": RemoteSource(
        "cifar10",
        (RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", 170498071),),
        ("https://www.cs.toronto.edu/~kriz/",),
    ),
}

INFOS: dict[str, DatasetInfo] = {
    "iris": DatasetInfo(
        "iris", "embedded",
        "Fisher's 150 iris flowers, 4 measurements in cm, bounds the physical box [0, 10] cm",
        (4,), ("setosa", "versicolor", "virginica"), IRIS_FEATURES,
    ),
    "digits": DatasetInfo(
        "digits", "embedded",
        "scikit-learn's 1797 8x8 handwritten digits scaled to [0, 1]",
        (1, 8, 8), DIGIT_NAMES,
    ),
    "moons": DatasetInfo(
        "moons", "embedded",
        "two interleaving half circles in 2-D (synthetic), bounds a padded box around the data",
        (2,), ("0", "1"), ("x1", "x2"),
    ),
    "blobs": DatasetInfo(
        "blobs", "embedded",
        "three Gaussian blobs in 2-D (synthetic), bounds a padded box around the data",
        (2,), ("0", "1", "2"), ("x1", "x2"),
    ),
    "mnist": DatasetInfo(
        "mnist", "downloaded",
        "70000 28x28 handwritten digits (60000 train / 10000 test) in [0, 1]",
        (1, 28, 28), DIGIT_NAMES, files=tuple(f.name for f in REMOTE["mnist"].files),
    ),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist", "downloaded",
        "Zalando's 70000 28x28 clothing images (60000 train / 10000 test) in [0, 1]",
        (1, 28, 28), FASHION_NAMES, files=tuple(f.name for f in REMOTE["fashion-mnist"].files),
    ),
    "cifar10": DatasetInfo(
        "cifar10", "downloaded",
        "60000 32x32 colour images in 10 classes (50000 train / 10000 test) in [0, 1]",
        (3, 32, 32), CIFAR10_NAMES, files=tuple(f.name for f in REMOTE["cifar10"].files),
    ),
}  # fmt: skip

#: Datasets by name, the same registry kind as attacks, models, methods and experiments.
DATASETS: Registry[DatasetInfo] = Registry("dataset", hint=" (see `advlab data list`)")
for _name, _info in INFOS.items():
    DATASETS.register(_name, _info)

_ALIASES = {
    "fashion": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fmnist": "fashion-mnist",
    "cifar-10": "cifar10",
}


def canonical_name(name: object) -> str:
    """The catalogue key for ``name`` (case, ``_``/``-`` and a few aliases forgiven)."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name: expected a str, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    DATASETS.get(key)  # an unknown name raises, listing the known ones
    return key


def remote_source(name: str) -> RemoteSource:
    key = canonical_name(name)
    if key not in REMOTE:
        raise ValueError(f"dataset {key!r} is embedded (it ships with scikit-learn); there is nothing to fetch")
    return REMOTE[key]
