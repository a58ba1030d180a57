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
        classes: Sequence[Any] | None,
        input_shape: Sequence[int] | None,
        spec: dict[str, Any] | None = None,
        output: str = "logits",
    ):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"Model: expected a torch.nn.Module, got {type(net).__name__}")
        if output not in ("logits", "probabilities"):
            raise ValueError(f"Model: output must be 'logits' or 'probabilities', got {output!r}")
        self.net = net
        self.bounds = Bounds.of(bounds)
        self._classes: tuple[str, ...] | None = None if classes is None else tuple(str(c) for c in classes)
        if self._classes is not None and len(self._classes) < 2:
            raise ValueError(f"Model: a classifier needs at least 2 classes, got {len(self._classes)}")
        self._input_shape: tuple[int, ...] | None = None if input_shape is None else tuple(int(s) for s in input_shape)
        #: True while input shape and classes are still to be taken from the first batch (``wrap(net, bounds=…)``).
        self.inferred = input_shape is None or classes is None
        #: "probabilities": the network returns probabilities; ``forward`` turns them into logits (log p).
        self.output = output
        self.spec: dict[str, Any] = copy.deepcopy(spec) if spec else {"family": "custom", "options": {}}

    @property
    def classes(self) -> tuple[str, ...]:
        if self._classes is None:
            raise ValueError("model: its classes are taken from the first batch it sees, and it has seen none yet; "
                             "call it on a batch first or wrap it with classes=")
        return self._classes

    @classes.setter
    def classes(self, value: Sequence[Any]) -> None:
        self._classes = tuple(str(c) for c in value)

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self._input_shape is None:
            raise ValueError("model: its input shape is taken from the first batch it sees, and it has seen none yet; "
                             "call it on a batch first or wrap it with input_shape=")
        return self._input_shape

    @input_shape.setter
    def input_shape(self, value: Sequence[int]) -> None:
        self._input_shape = tuple(int(s) for s in value)

    def infer_shapes(self, x: torch.Tensor) -> None:
        """A model wrapped with only ``bounds`` takes its input shape and classes from ``x`` (one
        forward pass on two inputs, no gradient); a model that knows them is left as it is."""
        if self._input_shape is not None and self._classes is not None:
            return
        if not isinstance(x, torch.Tensor) or x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(f"model: needs a non-empty batch (N, …) to take its input shape from, got {getattr(x, 'shape', type(x).__name__)}")
        was_training = self.training
        try:
            with torch.no_grad():
                self.eval()(x[:2].to(self.device, self.dtype))
        finally:
            self.train(was_training)

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
        if self.inferred:
            check_batch_shape(self, x)
        out = self.net(x)
        if self.inferred and (self._classes is None or self._input_shape is None):
            settle(self, x, out)
        if self.output == "probabilities":
            # log p is a logit vector whose softmax is p again.
            return torch.log(out.clamp_min(torch.finfo(out.dtype).tiny))
        return out

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
        # argmax in the network's own dtype: float64 logits closer than float32 resolution stay apart
        return self._batched_logits(x, batch_size).argmax(dim=1)

    def full_spec(self) -> dict[str, Any]:
        """The spec with bounds, classes and input shape: everything ``load`` needs."""
        spec = copy.deepcopy(self.spec)
        spec.update(
            bounds=self.bounds.to_json(), classes=list(self.classes), input_shape=list(self.input_shape)
        )
        return spec

    def extra_repr(self) -> str:
        classes = "?" if self._classes is None else len(self._classes)
        return (
            f"family={self.spec.get('family')!r}, input_shape={self._input_shape or '?'}, "
            f"classes={classes}, bounds={self.bounds!r}"
        )


def check_batch_shape(model: Model, x: torch.Tensor) -> None:
    """A model whose input shape came from its first batch refuses later batches of another shape."""
    if model._input_shape is not None and (x.ndim < 1 or tuple(x.shape[1:]) != model._input_shape):
        raise ValueError(
            f"model: expected inputs of shape (N, {', '.join(map(str, model._input_shape))}) like its first batch, "
            f"got {tuple(x.shape)}"
        )


def settle(model: Model, x: torch.Tensor, out: Any) -> None:
    """Take the input shape and the class count of a ``wrap(net, bounds=…)`` model from its first batch."""
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"model: the network must return logits of shape (N, classes), got "
            f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__} for an input of shape {tuple(x.shape)}"
        )
    if model._classes is not None and out.shape[1] != len(model._classes):
        raise ValueError(f"model: the network returns {out.shape[1]} outputs per input, but classes= names {len(model._classes)}")
    if out.shape[1] < 2:
        raise ValueError(f"model: a classifier needs at least 2 outputs per input, the network returns {out.shape[1]}")
    if model._classes is None:
        model._classes = tuple(str(i) for i in range(out.shape[1]))
    if model._input_shape is None:
        model._input_shape = tuple(int(s) for s in x.shape[1:])
    if model.output == "logits" and looks_like_probabilities(out):
        model.output = "probabilities"
        warn_probabilities()


def looks_like_probabilities(out: torch.Tensor) -> bool:
    """Rows of non-negative numbers summing to 1: a softmax output, not logits."""
    out = out.detach()
    if out.numel() == 0 or not torch.isfinite(out).all() or out.min() < 0:
        return False
    return bool(torch.allclose(out.sum(dim=1), torch.ones((), dtype=out.dtype, device=out.device), atol=1e-4))


def warn_probabilities() -> None:
    import warnings

    warnings.warn(
        "wrap: the network returns probabilities (rows of non-negative numbers summing to 1), not logits; "
        "advlab uses log(p) as logits. Return the logits (drop the final softmax) for stronger gradient attacks.",
        UserWarning,
        stacklevel=4,
    )
