"""Input checks shared by every attack: clear errors instead of silent nonsense."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import torch
from torch import nn

from advlab.models.model import Model
from advlab.models.wrap import wrap


def as_input_tensor(x: Any) -> Any:
    """NumPy arrays become tensors (float64 is rounded to float32 later); anything else is checked later."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiub":
            raise TypeError(f"attack: x must hold numbers, got a NumPy array of dtype {x.dtype}")
        return torch.from_numpy(np.ascontiguousarray(x))
    return x


def checked_logits(model: Model, x: torch.Tensor, what: str) -> torch.Tensor:
    """The model's logits for ``x`` (its own dtype); a clear error when any is NaN or inf, since no
    success can be decided on them (an argmax over NaN picks a class at random)."""
    logits = model._batched_logits(x, 2048)
    finite = torch.isfinite(logits).all(dim=1)
    if not finite.all():
        bad = (~finite).nonzero().flatten()
        raise ValueError(
            f"{what}: the model returned NaN or inf logits for {len(bad)} of {len(x)} input(s) (first: input "
            f"{int(bad[0])}); success cannot be decided on them. Check the network (overflow, log(0), a division) "
            "and its weights"
        )
    return logits


def as_model(obj: Any, x: torch.Tensor) -> Model:
    """A ``Model`` from anything ``wrap`` accepts; plain modules may carry ``bounds``/``classes`` attributes."""
    if isinstance(obj, Model):
        obj.infer_shapes(x)  # a model wrapped with only bounds takes its shape and classes from x
        return obj
    if isinstance(obj, nn.Module) and not hasattr(obj, "bounds"):
        raise ValueError(
            "attack: a plain torch module needs its input bounds; wrap it first: "
            "advlab.models.wrap(net, bounds=(0, 1), classes=10, input_shape=x.shape[1:])"
        )
    classes = getattr(obj, "classes", None) or getattr(obj, "num_classes", None)
    if isinstance(obj, nn.Module) and classes is None:
        with torch.no_grad():
            classes = int(obj(x[:1]).shape[1])
    return wrap(obj, bounds=getattr(obj, "bounds", None), classes=classes, input_shape=tuple(x.shape[1:]))


def check_inputs(model: Model, x: Any) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"attack: x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"attack: x must be a floating-point tensor, got dtype {x.dtype}")
    if tuple(x.shape[1:]) != model.input_shape or x.ndim != len(model.input_shape) + 1:
        raise ValueError(f"attack: x must have shape (N, {', '.join(map(str, model.input_shape))}), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError("attack: x is empty")
    if not torch.isfinite(x).all():
        raise ValueError("attack: x contains NaN or inf")
    inside = model.bounds.contains(x)
    if not inside.all():
        i = int((~inside).nonzero()[0])
        raise ValueError(
            f"attack: x[{i}] lies outside the model's bounds {model.bounds!r} (min {x[i].min().item():.4g}, "
            f"max {x[i].max().item():.4g}); inputs must be in the space the model was trained on, unnormalised"
        )
    return x.float()


def check_labels(model: Model, labels: Any, n: int, what: str) -> torch.Tensor:
    try:
        t = torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"attack: {what} must be integer class indices, got {type(labels).__name__} ({exc})") from exc
    if t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError(f"attack: {what} must be integer class indices, got dtype {t.dtype}")
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"attack: {what} must have shape ({n},), got {tuple(t.shape)}")
    if (t < 0).any() or (t >= model.num_classes).any():
        raise ValueError(f"attack: {what} must be in 0..{model.num_classes - 1}, got values {t.min().item()}..{t.max().item()}")
    return t.long()


def check_eps(eps: Any, required: bool, name: str) -> list[float] | None:
    if eps is None:
        if required:
            raise ValueError(f"{name}: eps is required for a fixed-size attack (a float or a list of floats)")
        return None
    if isinstance(eps, (torch.Tensor, np.ndarray)):
        if eps.ndim > 1:
            raise ValueError(f"{name}: eps must be a number or a 1-D list of numbers, got an array of shape {tuple(eps.shape)}")
        values = eps.reshape(-1).tolist()
    elif isinstance(eps, (str, bytes, bool)) or not isinstance(eps, (numbers.Real, Sequence)):
        raise TypeError(f"{name}: eps must be a float, a list of floats or None, got {type(eps).__name__}")
    else:
        values = [eps] if isinstance(eps, numbers.Real) else list(eps)
    if not all(isinstance(e, numbers.Real) and not isinstance(e, bool) for e in values):
        raise TypeError(f"{name}: eps must hold numbers, got {values!r}")
    out = [float(e) for e in values]
    if not out:
        raise ValueError(f"{name}: eps is an empty list")
    bad = [e for e in out if not math.isfinite(e) or e < 0]
    if bad:
        raise ValueError(f"{name}: eps must be finite and ≥ 0, got {bad}")
    return out


@overload
def check_positive_int(value: Any, what: str, allow_none: Literal[False]) -> int: ...


@overload
def check_positive_int(value: Any, what: str, allow_none: bool = True) -> int | None: ...


def check_positive_int(value: Any, what: str, allow_none: bool = True) -> int | None:
    """A positive int (``None`` passes through when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def check_positive_float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{what} must be a finite number > 0, got {value!r}")
    return float(value)
