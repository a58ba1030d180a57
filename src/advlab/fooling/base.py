"""The template every fooling strategy follows: validate, search, measure.

A strategy is configured once and called on a model:
``result = strategy(model, classes=None, required=0.99, seed=0, reference=x_train)``.
Subclasses implement ``search`` (targets in, images and costs out); ``__call__``
checks the inputs, puts the model in eval mode, times the search, measures the
images with the model (``FoolingResult.measure``) and, given ``reference``
inputs, records each image's distance to the nearest of them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from advlab.fooling.nearest import nearest_distances
from advlab.fooling.result import FoolingResult


@dataclass
class Found:
    """What a search returns: one image per target, and what each cost."""

    images: torch.Tensor  # N×…, in the model's bounds
    queries: torch.Tensor  # N
    steps: torch.Tensor  # N
    extra: dict[str, Any] = field(default_factory=dict)


class FoolingStrategy(ABC):
    """Search, for each target class, an input far from the data that the model gives that class."""

    name: ClassVar[str] = "abstract"
    #: the search differentiates the model (white-box); False: it only reads probabilities
    needs_gradient: ClassVar[bool] = False
    #: the search needs reference (training) inputs, e.g. to locate the data in hidden space
    needs_reference: ClassVar[bool] = False

    @abstractmethod
    def search(self, model: Any, targets: torch.Tensor, *, required: float, generator: torch.Generator,
               reference: torch.Tensor | None, quiet: bool) -> Found:  # fmt: skip
        """Images for ``targets`` (N class indices); stop early per image once p(target) ≥ ``required``."""

    @property
    def label(self) -> str:
        """The strategy's name in results and tables (e.g. evolve-cppn)."""
        return self.name

    def params(self) -> dict[str, Any]:
        return {}

    def config(self) -> dict[str, Any]:
        return {"strategy": self.label, **self.params()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"

    def __call__(self, model: Any, classes: Sequence[int] | torch.Tensor | None = None, *, required: float = 0.99,
                 seed: int = 0, reference: torch.Tensor | None = None, quiet: bool = True) -> FoolingResult:  # fmt: skip
        targets = _targets(model, classes)
        if isinstance(required, bool) or not isinstance(required, (int, float)) or not 0.0 < required < 1.0:
            raise ValueError(f"{self.name}: required confidence must be a number in (0, 1), got {required!r}")
        if self.needs_gradient and not getattr(model, "differentiable", True):
            raise ValueError(f"{self.name}: needs the model's gradients, but this model is a black box; "
                             "use a score-based strategy (ascent-nes, evolve-direct, evolve-cppn, cma)")  # fmt: skip
        if self.needs_reference and reference is None:
            raise ValueError(f"{self.name}: needs reference inputs (the training images), got none")
        if reference is not None and tuple(reference.shape[1:]) != tuple(model.input_shape):
            raise ValueError(f"{self.name}: reference inputs shaped {tuple(reference.shape[1:])}, model expects {model.input_shape}")
        generator = torch.Generator().manual_seed(int(seed))
        was_training = model.training
        model.eval()
        t0 = time.perf_counter()
        try:
            found = self.search(model, targets, required=float(required), generator=generator, reference=reference, quiet=quiet)
        finally:
            model.train(was_training)
        seconds = time.perf_counter() - t0
        images = found.images.detach().cpu().float()
        dist = nearest_distances(images, reference)[0] if reference is not None else torch.full((len(targets),), float("nan"))
        raw = FoolingResult(self.label, {**self.config(), "seed": int(seed)}, float(required), images, targets,
                            torch.zeros(len(targets)), targets, torch.zeros(len(targets)), found.queries.long().cpu(),
                            found.steps.long().cpu(), dist.double(), tuple(model.classes), seconds, dict(found.extra))  # fmt: skip
        return raw.measure(model)


def _targets(model: Any, classes: Sequence[int] | torch.Tensor | None) -> torch.Tensor:
    k = model.num_classes
    if classes is None:
        return torch.arange(k)
    t = torch.as_tensor(list(classes) if not isinstance(classes, torch.Tensor) else classes)
    if t.ndim != 1 or len(t) == 0 or t.is_floating_point() or t.dtype == torch.bool:
        raise ValueError(f"classes: expected a non-empty list of class indices, got {classes!r}")
    if int(t.min()) < 0 or int(t.max()) >= k:
        raise ValueError(f"classes: expected indices in 0..{k - 1}, got {t.tolist()}")
    return t.long()


def box(model: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper bounds broadcast to one input's shape, on the model's device."""
    shape = tuple(model.input_shape)
    lo = torch.broadcast_to(model.bounds.lower, shape).to(model.device, torch.float32)
    hi = torch.broadcast_to(model.bounds.upper, shape).to(model.device, torch.float32)
    return lo, hi


@torch.no_grad()
def log_probs(model: Any, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """log-softmax of the model's logits for a batch (no autograd), float32, on the model's device."""
    out = [torch.log_softmax(model(x[i : i + batch_size].to(model.device)).float(), dim=1) for i in range(0, len(x), batch_size)]
    return torch.cat(out) if out else torch.empty(0, model.num_classes, device=model.device)


def check_int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an integer ≥ {minimum}, got {value!r}")
    return value


def check_float(value: Any, what: str, minimum: float = 0.0, strict: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value != float("inf")
    if not ok or value < minimum or (strict and value == minimum):
        raise ValueError(f"{what} must be a finite number {'>' if strict else '≥'} {minimum:g}, got {value!r}")
    return float(value)
