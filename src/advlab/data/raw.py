"""Splits as NumPy arrays in their stored type, before subsetting and conversion to float32 tensors.

Loaders return this so that class subsets and ``limit_*`` cut the arrays while
they are still compact (uint8 images), and only the kept rows become floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from advlab.bounds import Bounds
from advlab.data.dataset import Dataset
from advlab.data.errors import DatasetError


@dataclass(frozen=True, eq=False)
class RawSplits:
    """Inputs are ``x / scale`` once converted; labels are integers in ``0..len(class_names)-1``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    bounds: Bounds
    input_shape: tuple[int, ...]
    feature_names: tuple[str, ...] | None = None
    info: dict[str, object] = field(default_factory=dict)
    scale: float = 1.0

    def _x(self, x: np.ndarray) -> torch.Tensor:
        out = torch.from_numpy(np.asarray(x).astype(np.float32).reshape(-1, *self.input_shape))
        if self.scale != 1.0:
            out /= self.scale
        if not torch.isfinite(out).all():
            raise DatasetError(f"{self.name}: inputs contain NaN or infinite values")
        if out.shape[0] and not bool(self.bounds.contains(out).all()):
            raise DatasetError(f"{self.name}: inputs fall outside the dataset's bounds {self.bounds!r}")
        return out

    def to_dataset(self) -> Dataset:
        return Dataset(
            name=self.name,
            x_train=self._x(self.x_train),
            y_train=torch.from_numpy(np.asarray(self.y_train, dtype=np.int64).copy()),
            x_test=self._x(self.x_test),
            y_test=torch.from_numpy(np.asarray(self.y_test, dtype=np.int64).copy()),
            class_names=self.class_names,
            bounds=self.bounds,
            input_shape=self.input_shape,
            feature_names=self.feature_names,
            info=dict(self.info),
        )
