"""``wrap``: turn whatever the user has into a ``Model``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from advlab.models.blackbox import BlackBoxModel
from advlab.models.factory import check_factory_ref, default_factory
from advlab.models.model import Model, looks_like_probabilities, settle, warn_probabilities
from advlab.models.sklearn_convert import convert_sklearn, is_sklearn_classifier


def wrap(
    obj: Any,
    *,
    bounds: Any = None,
    classes: int | Sequence[Any] | None = None,
    input_shape: Sequence[int] | None = None,
    factory: str | None = None,
    options: dict[str, Any] | None = None,
) -> Model:
    """Return a ``Model`` for a zoo model, a ``torch.nn.Module`` returning logits, a fitted
    scikit-learn ``LogisticRegression``/``MLPClassifier`` (converted exactly), or a callable
    mapping a NumPy batch to probabilities (a black box: no gradient attacks).

    A torch module needs only ``bounds``: without ``input_shape``/``classes`` they are taken from
    the first batch the model sees (a later batch of another shape is an error). With
    ``input_shape``, the network is tried once at wrap time, so a width that disagrees with
    ``classes`` is refused at once. A network returning probabilities instead of logits is
    detected (rows of non-negative numbers summing to 1) and used through log p, with a warning.
    ``factory`` ("module:function" or "path/to/file.py:function", called with ``options``) lets
    ``advlab.save``/``advlab.load`` rebuild the network; by default it is the network's class
    when that class is importable and takes no arguments.
    """
    if isinstance(obj, Model):
        return obj
    if is_sklearn_classifier(obj):
        if bounds is None:
            raise ValueError("wrap: a scikit-learn model needs bounds=(lower, upper) of its input features")
        return convert_sklearn(obj, bounds=bounds, classes=_names(classes) if classes is not None else None)
    if isinstance(obj, nn.Module):
        if bounds is None:
            raise ValueError("wrap: a torch module needs bounds=(lower, upper) of its inputs, e.g. bounds=(0, 1)")
        names = _names(classes) if classes is not None else None
        spec = {"family": "custom", "options": dict(options or {})}
        ref = factory if factory is not None else default_factory(obj)
        if ref is not None:
            spec["factory"] = check_factory_ref(ref)
        model = Model(obj, bounds=bounds, classes=names, input_shape=input_shape, spec=spec)
        if input_shape is not None:
            probe(model)
        return model
    missing = [k for k, v in {"bounds": bounds, "classes": classes, "input_shape": input_shape}.items() if v is None]
    if callable(obj):
        if missing:
            raise ValueError(f"wrap: a black-box function needs {', '.join(missing)}")
        return BlackBoxModel(obj, bounds=bounds, classes=_names(classes), input_shape=tuple(input_shape or ()))
    raise TypeError(
        f"wrap: expected an advlab Model, a torch.nn.Module, a fitted scikit-learn classifier or a callable, "
        f"got {type(obj).__name__}"
    )


def probe(model: Model) -> None:
    """Run the network once on the centre of its input box: its output must be (N, classes) logits."""
    x = model.bounds.center(model.input_shape).expand(2, *model.input_shape).clone()
    was_training = model.net.training
    model.net.eval()
    try:
        with torch.no_grad():
            out = model.net(x.to(model.device, model.dtype))
    except Exception as exc:  # noqa: BLE001 - any failure here means the shape or the network is wrong
        raise ValueError(
            f"wrap: the network fails on an input of shape (N, {', '.join(map(str, model.input_shape))}): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    finally:
        model.net.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"wrap: the network must return logits of shape (N, classes), got {got}")
    if model._classes is not None and out.shape[1] != len(model._classes):
        raise ValueError(
            f"wrap: the network returns {out.shape[1]} outputs per input, but classes= names {len(model._classes)} "
            "classes; give the network's own number of classes"
        )
    if model._classes is None:
        settle(model, x, out)
    elif looks_like_probabilities(out):
        model.output = "probabilities"
        warn_probabilities()


def _names(classes: Any) -> list[str]:
    return [str(i) for i in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
