"""The one value every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from advlab.bounds import Bounds


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/test splits as float32 inputs inside ``bounds`` and int64 labels.

    ``class_names[k]`` names label ``k``; after a class subset the labels are
    renumbered 0..k-1 and ``class_names`` follows them.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: tuple[str, ...]
    bounds: Bounds
    input_shape: tuple[int, ...]
    feature_names: tuple[str, ...] | None = None
    info: dict[str, object] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def all(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Train and test concatenated (e.g. fitting on all 150 iris flowers)."""
        return torch.cat([self.x_train, self.x_test]), torch.cat([self.y_train, self.y_test])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
            f"classes={len(self.class_names)}, bounds={self.bounds!r})"
        )
