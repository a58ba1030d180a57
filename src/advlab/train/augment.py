"""Standard CIFAR augmentation as a training-method wrapper: random crop (zero padding) and horizontal flip.

``Augmented(method)`` transforms each batch, then lets ``method`` make the loss; ``fit`` is unchanged. The
crops and flips come from the wrapper's own seeded generator (drawn on the CPU, so CPU and GPU runs see the
same ones).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from advlab.models.model import Model
from advlab.train.methods import BatchLoss, TrainingMethod


class Augmented(TrainingMethod):
    """Random ``crop_padding``-pixel shifts (zeros shifted in, as torchvision's ``RandomCrop(32, padding=4)``) and
    left-right flips with probability 1/2, before ``method``'s loss."""

    name = "augmented"

    def __init__(self, method: TrainingMethod, crop_padding: int = 4, flip: bool = True, seed: int = 0):
        if not isinstance(method, TrainingMethod):
            raise TypeError(f"augment: expected a TrainingMethod, got {type(method).__name__}")
        if not isinstance(crop_padding, int) or crop_padding < 0:
            raise ValueError(f"augment: crop_padding must be a non-negative integer, got {crop_padding!r}")
        self.method, self.crop_padding, self.flip = method, crop_padding, bool(flip)
        self.generator = torch.Generator().manual_seed(int(seed))

    def config(self) -> dict[str, Any]:
        return {"method": self.method.name, **self.params()}  # the wrapped method is what the run records

    def params(self) -> dict[str, Any]:
        return {**self.method.params(), "augment": {"crop_padding": self.crop_padding, "flip": self.flip}}

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"augment: expected image batches (N, C, H, W), got shape {tuple(x.shape)}")
        n, c, h, w = x.shape
        out = x
        if self.crop_padding:
            p = self.crop_padding
            padded = F.pad(x, (p, p, p, p))
            oy = torch.randint(0, 2 * p + 1, (n,), generator=self.generator).to(x.device)
            ox = torch.randint(0, 2 * p + 1, (n,), generator=self.generator).to(x.device)
            rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
            cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
            out = padded[torch.arange(n, device=x.device)[:, None, None, None], torch.arange(c, device=x.device)[None, :, None, None], rows, cols]
        if self.flip:
            flips = (torch.rand(n, generator=self.generator) < 0.5).to(x.device)[:, None, None, None]
            out = torch.where(flips, out.flip(3), out)
        return out

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None) -> BatchLoss:
        # Crops and flips from the wrapper's own generator; the wrapped method gets fit's (its random starts).
        return self.method.batch_loss(model, self.transform(x), y, generator=generator)
