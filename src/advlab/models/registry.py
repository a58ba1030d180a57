"""Name → builder registry for the model zoo.

A builder takes the input shape, the number of classes and the family's
options and returns the bare ``nn.Module``; ``build`` wraps it into a ``Model``
with a spec that rebuilds it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from advlab.models.model import Model
from advlab.registry import Registry, check_options

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class Family:
    """A zoo entry: its name, the builder, and the one-line summary (the builder's docstring)."""

    name: str
    builder: Builder

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.builder) or "").split("\n", 1)[0]


#: Model families by name. A builder registers with ``@MODELS.register("name")`` and takes
#: ``input_shape``, ``num_classes`` and its options; its docstring's first line is the summary.
MODELS: Registry[Builder] = Registry("model", hint=" (see `advlab models`)")


def families() -> list[Family]:
    return [Family(name, builder) for name, builder in MODELS.items()]


def family(name: str) -> Family:
    return Family(name, MODELS.get(name))


def _check_options(fam: Family, options: dict[str, Any]) -> None:
    check_options(fam.builder, options, f"model {fam.name!r}", skip=("input_shape", "num_classes"))


def build(
    name: str,
    *,
    input_shape: Sequence[int],
    classes: int | Sequence[Any],
    bounds: Any = (0.0, 1.0),
    seed: int | None = None,
    **options: Any,
) -> Model:
    """Build a zoo model by name, e.g. ``build("cnn-small", input_shape=(1, 28, 28), classes=10, seed=0)``.

    ``seed``: the initial weights are drawn inside ``torch.random.fork_rng`` seeded with it, so the
    same seed gives the same weights and the caller's global RNG is left as it was (the weights
    equal those of ``torch.manual_seed(seed); build(...)``). None: drawn from the global RNG.
    """
    fam = family(name)
    _check_options(fam, options)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"build: seed must be a non-negative integer or None, got {seed!r}")
    class_names = [str(i) for i in range(classes)] if isinstance(classes, int) else list(classes)
    if seed is None:
        net = fam.builder(input_shape=tuple(input_shape), num_classes=len(class_names), **options)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = fam.builder(input_shape=tuple(input_shape), num_classes=len(class_names), **options)
    spec = {"family": name, "options": _jsonable(options)}
    return Model(net, bounds=bounds, classes=class_names, input_shape=input_shape, spec=spec)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
