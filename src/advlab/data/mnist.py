"""MNIST and Fashion-MNIST from their four canonical IDX files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advlab.bounds import Bounds
from advlab.data.errors import DatasetError
from advlab.data.idx import read_idx_gz
from advlab.data.raw import RawSplits
from advlab.data.registry import INFOS


def _split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", ndim=3)
    labels = read_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", ndim=1)
    if images.shape[1:] != (28, 28):
        raise DatasetError(f"{folder}/{prefix}-images: expected 28x28 images, found {images.shape[1:]}")
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{folder}: {prefix} has {images.shape[0]} images but {labels.shape[0]} labels; "
            "delete the files and fetch them again"
        )
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{folder}/{prefix}-labels: labels must be 0..9, found {int(labels.max())}")
    return images, labels


def load_idx_dataset(name: str, folder: Path) -> RawSplits:
    """Read ``train-*`` and ``t10k-*`` from ``folder`` (already verified by :func:`remote.fetch`)."""
    x_train, y_train = _split(folder, "train")
    x_test, y_test = _split(folder, "t10k")
    meta = INFOS[name]
    info: dict[str, object] = {"description": meta.description, "path": str(folder), "split": "canonical"}
    return RawSplits(
        name, x_train, y_train, x_test, y_test, meta.classes, Bounds.of((0.0, 1.0)), meta.input_shape,
        info=info, scale=255.0,
    )  # fmt: skip
