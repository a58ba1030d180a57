"""Fitted scikit-learn models convert exactly: wrap(clf).predict_proba == clf.predict_proba."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from advlab.models import Model, wrap

TOL = 1e-6


def _dataset(name: str) -> tuple[np.ndarray, np.ndarray, float]:
    if name == "iris":
        x, y = load_iris(return_X_y=True)
        return x, y, 10.0
    x, y = load_digits(return_X_y=True)
    return x[:600], y[:600], 16.0  # a subset keeps the MLP fits fast


def _labels(y: np.ndarray, binary: bool) -> np.ndarray:
    return (y == 1).astype(int) if binary else y


def _check_equal(clf: object, model: Model, x: np.ndarray, hi: float) -> None:
    rng = np.random.default_rng(0)
    random_points = rng.uniform(0.0, hi, size=(300, x.shape[1]))
    for points in (x, random_points):
        # the model sees float32 inputs; hand scikit-learn exactly the same numbers
        x32 = torch.as_tensor(points, dtype=torch.float32)
        ours = model.predict_proba(x32).double().numpy()
        theirs = clf.predict_proba(x32.double().numpy())  # type: ignore[attr-defined]
        assert ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() < TOL
        assert np.array_equal(model.predict(x32).numpy(), theirs.argmax(1))
        # the network itself keeps scikit-learn's float64 weights: exact up to float64 rounding
        with torch.no_grad():
            exact = torch.softmax(model(x32), dim=1).numpy()
        assert np.abs(exact - theirs).max() < 1e-10


@pytest.mark.parametrize("data", ["iris", "digits"])
@pytest.mark.parametrize("binary", [False, True])
def test_logistic_regression_converts_exactly(data: str, binary: bool) -> None:
    x, y, hi = _dataset(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # converged or not, the conversion must be exact
        clf = LogisticRegression(max_iter=100).fit(x, _labels(y, binary))
    model = wrap(clf, bounds=(0.0, hi))
    assert model.num_classes == (2 if binary else len(np.unique(y)))
    assert model.spec["family"] == "softmax" and model.spec["converted_from"] == "sklearn.LogisticRegression"
    assert model.differentiable
    _check_equal(clf, model, x, hi)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("data", ["iris", "digits"])
def test_mlp_classifier_converts_exactly(activation: str, binary: bool, data: str) -> None:
    x, y, hi = _dataset(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((12, 7), activation=activation, max_iter=60, random_state=0).fit(x, _labels(y, binary))
    model = wrap(clf, bounds=(0.0, hi))
    assert model.spec["family"] == "mlp"
    assert model.spec["options"]["widths"] == [12, 7] and model.spec["options"]["activation"] == activation
    _check_equal(clf, model, x, hi)


def test_converted_model_is_differentiable_and_takes_float32_inputs() -> None:
    x, y, hi = _dataset("iris")
    model = wrap(LogisticRegression(max_iter=500).fit(x, y), bounds=(0.0, hi))
    xt = torch.tensor(x[:5], dtype=torch.float32, requires_grad=True)
    model(xt)[:, 0].sum().backward()
    assert xt.grad is not None and xt.grad.dtype == torch.float32 and xt.grad.abs().sum() > 0
    assert model.logits(xt.detach()).dtype == torch.float32
    assert model.predict_proba(xt.detach()).dtype == torch.float32


def test_class_names_follow_the_model_or_the_caller() -> None:
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression(max_iter=500).fit(x, names)
    assert wrap(clf, bounds=(0, 10)).classes == ("setosa", "versicolor", "virginica")
    assert wrap(clf, bounds=(0, 10), classes=["a", "b", "c"]).classes == ("a", "b", "c")
    with pytest.raises(ValueError, match="expected 3 names"):
        wrap(clf, bounds=(0, 10), classes=["a", "b"])


def test_unfitted_model_is_refused() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        wrap(LogisticRegression(), bounds=(0, 1))
    with pytest.raises(ValueError, match="not fitted"):
        wrap(MLPClassifier(), bounds=(0, 1))


def test_unsupported_estimator_is_refused_with_the_alternative() -> None:
    x, y = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    with pytest.raises(TypeError, match="LogisticRegression or MLPClassifier") as err:
        wrap(forest, bounds=(0, 10))
    assert "black box" in str(err.value)
    # the suggested alternative works
    box = wrap(forest.predict_proba, bounds=(0, 10), classes=3, input_shape=(4,))
    assert np.array_equal(box.predict(torch.tensor(x, dtype=torch.float32)).numpy(), forest.predict(x.astype(np.float32)))


def test_sklearn_model_needs_bounds() -> None:
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="bounds"):
        wrap(LogisticRegression(max_iter=500).fit(x, y))
