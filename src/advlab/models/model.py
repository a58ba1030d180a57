"""``Model``: a logits network that knows its input box, class names and spec."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from advlab.bounds import Bounds


class Model(nn.Module):
    """A classifier returning logits, with ``bounds``, ``classes``, ``input_shape`` and ``spec``.

    ``spec`` is JSON-serialisable: ``{"family": …, "options": {…}}`` plus whatever
    training recorded (``"training"``). Together with the weights it rebuilds the
    model exactly (``advlab.save``/``advlab.load``).
    """

    differentiable: bool = True

    def __init__(
        self,
        net: nn.Module,
        *,
        bounds: Any,
        classes: Sequence[Any],
        input_shape: Sequence[int],
        spec: dict[str, Any] | None = None,
    ):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"Model: expected a torch.nn.Module, got {type(net).__name__}")
        self.net = net
        self.bounds = Bounds.of(bounds)
        self.classes = tuple(str(c) for c in classes)
        if len(self.classes) < 2:
            raise ValueError(f"Model: a classifier needs at least 2 classes, got {len(self.classes)}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.spec: dict[str, Any] = copy.deepcopy(spec) if spec else {"family": "custom", "options": {}}

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        for b in self.buffers():
            return b.device
        return torch.device("cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the weights (float32, or float64 for exact scikit-learn conversions)."""
        for t in (*self.parameters(), *self.buffers()):
            if t.is_floating_point():
                return t.dtype
        return torch.float32

    @torch.no_grad()
    def _batched_logits(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        """Logits in the network's own dtype (no rounding to float32 yet)."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        was_training = self.training
        self.eval()
        try:
            out = [self(x[i : i + batch_size].to(self.device)) for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        if not out:
            return torch.empty(0, self.num_classes)
        return torch.cat(out)

    def logits(self, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """Logits (float32) for any number of inputs, batched, without autograd, on the model's device."""
        return self._batched_logits(x, batch_size).float()

    def predict_proba(self, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        # softmax before rounding to float32, so a float64 network keeps its exact probabilities.
        return torch.softmax(self._batched_logits(x, batch_size), dim=1).float()

    def predict(self, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        return self.logits(x, batch_size).argmax(dim=1)

    def full_spec(self) -> dict[str, Any]:
        """The spec with bounds, classes and input shape: everything ``load`` needs."""
        spec = copy.deepcopy(self.spec)
        spec.update(
            bounds=self.bounds.to_json(), classes=list(self.classes), input_shape=list(self.input_shape)
        )
        return spec

    def extra_repr(self) -> str:
        return (
            f"family={self.spec.get('family')!r}, input_shape={self.input_shape}, "
            f"classes={len(self.classes)}, bounds={self.bounds!r}"
        )
