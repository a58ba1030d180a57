"""``wrap``: turn whatever the user has into a ``Model``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from advlab.models.blackbox import BlackBoxModel
from advlab.models.model import Model
from advlab.models.sklearn_convert import convert_sklearn, is_sklearn_classifier


def wrap(
    obj: Any,
    *,
    bounds: Any = None,
    classes: int | Sequence[Any] | None = None,
    input_shape: Sequence[int] | None = None,
) -> Model:
    """Return a ``Model`` for a zoo model, a ``torch.nn.Module`` returning logits, a fitted
    scikit-learn ``LogisticRegression``/``MLPClassifier`` (converted exactly), or a callable
    mapping a NumPy batch to probabilities (a black box: no gradient attacks).
    """
    if isinstance(obj, Model):
        return obj
    if is_sklearn_classifier(obj):
        if bounds is None:
            raise ValueError("wrap: a scikit-learn model needs bounds=(lower, upper) of its input features")
        return convert_sklearn(obj, bounds=bounds, classes=_names(classes) if classes is not None else None)
    missing = [k for k, v in {"bounds": bounds, "classes": classes, "input_shape": input_shape}.items() if v is None]
    if isinstance(obj, nn.Module):
        if missing:
            raise ValueError(f"wrap: a torch module needs {', '.join(missing)} (e.g. bounds=(0, 1), classes=10, input_shape=(1, 28, 28))")
        return Model(obj, bounds=bounds, classes=_names(classes), input_shape=input_shape, spec={"family": "custom", "options": {}})
    if callable(obj):
        if missing:
            raise ValueError(f"wrap: a black-box function needs {', '.join(missing)}")
        return BlackBoxModel(obj, bounds=bounds, classes=_names(classes), input_shape=input_shape)
    raise TypeError(
        f"wrap: expected an advlab Model, a torch.nn.Module, a fitted scikit-learn classifier or a callable, "
        f"got {type(obj).__name__}"
    )


def _names(classes: Any) -> list[str]:
    return [str(i) for i in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
