"""Exact conversion of fitted scikit-learn linear models and MLPs to zoo networks.

The converted network reproduces ``predict_proba``: multinomial logistic
regression is softmax(Wx + b); a binary model's sigmoid σ(z) equals
softmax([0, z]), so binary models become two-logit networks with a zero row.
The converted network keeps scikit-learn's float64 weights (``spec["dtype"]``):
rounding them to float32 would move probabilities by up to ~1e-6.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from advlab.models.layers import classifier, linear_head
from advlab.models.model import Model
from advlab.models.registry import build


def is_sklearn_classifier(obj: Any) -> bool:
    return type(obj).__module__.startswith("sklearn.") and hasattr(obj, "predict_proba")


def _check_fitted(clf: Any) -> None:
    if not hasattr(clf, "classes_"):
        raise ValueError(f"{type(clf).__name__} is not fitted yet; call .fit(X, y) before wrapping it")


def _binary_as_two_logits(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([np.zeros_like(w), w]), np.concatenate([np.zeros_like(b), b])


def _set_linear(layer: torch.nn.Linear, w: np.ndarray, b: np.ndarray) -> None:
    w_t = torch.as_tensor(np.asarray(w, dtype=np.float64))
    b_t = torch.as_tensor(np.asarray(b, dtype=np.float64))
    if tuple(w_t.shape) != tuple(layer.weight.shape) or tuple(b_t.shape) != tuple(layer.bias.shape):
        raise ValueError(
            f"conversion: expected weights {tuple(layer.weight.shape)} and bias {tuple(layer.bias.shape)}, "
            f"got {tuple(w_t.shape)} and {tuple(b_t.shape)}"
        )
    with torch.no_grad():
        layer.weight.copy_(w_t)
        layer.bias.copy_(b_t)


def convert_sklearn(clf: Any, *, bounds: Any, classes: Any = None) -> Model:
    """Convert a fitted ``LogisticRegression`` or ``MLPClassifier`` into a ``Model``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    _check_fitted(clf)
    names = [str(c) for c in (classes if classes is not None else clf.classes_)]
    if len(names) != len(clf.classes_):
        raise ValueError(f"classes: expected {len(clf.classes_)} names (the model's classes), got {len(names)}")
    d = int(clf.n_features_in_)
    if isinstance(clf, LogisticRegression):
        model = build("softmax", input_shape=(d,), classes=names, bounds=bounds)
        model.net.double()
        w, b = clf.coef_, np.atleast_1d(clf.intercept_)
        if len(names) == 2:
            w, b = _binary_as_two_logits(w, b)
        _set_linear(linear_head(model), w, b)
    elif isinstance(clf, MLPClassifier):
        widths = [int(c.shape[1]) for c in clf.coefs_[:-1]]
        model = build("mlp", input_shape=(d,), classes=names, bounds=bounds, widths=widths, activation=clf.activation)
        model.net.double()
        linears = [m for m in classifier(model).features.modules() if isinstance(m, torch.nn.Linear)]
        for layer, w, b in zip(linears, clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
            _set_linear(layer, w.T, b)
        w, b = clf.coefs_[-1].T, clf.intercepts_[-1]
        if len(names) == 2:
            w, b = _binary_as_two_logits(w, b)
        _set_linear(linear_head(model), w, b)
    else:
        raise TypeError(
            f"wrap: scikit-learn {type(clf).__name__} cannot be converted exactly; expected LogisticRegression "
            "or MLPClassifier (wrap any other classifier as a black box: wrap(clf.predict_proba, ...))"
        )
    model.spec["converted_from"] = f"sklearn.{type(clf).__name__}"
    model.spec["dtype"] = "float64"
    _verify(clf, model)
    return model


def _verify(clf: Any, model: Model, n: int = 256) -> None:
    """Refuse a conversion that does not reproduce predict_proba (e.g. an unusual configuration)."""
    gen = torch.Generator().manual_seed(0)
    x = model.bounds.uniform(n, model.input_shape, gen)
    with torch.no_grad():
        ours = torch.softmax(model.eval()(x), dim=1).double().numpy()
    theirs = clf.predict_proba(x.double().numpy())
    err = float(np.abs(ours - theirs).max())
    if err > 1e-8:
        raise ValueError(f"conversion of {type(clf).__name__} is not exact (max probability error {err:.2e})")
