"""``wrap``: torch modules, black-box callables, and what each must be told."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advlab.models import BlackBoxModel, Model, build, wrap
from advlab.train import fit


def _softmax_np(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


W = np.random.default_rng(0).normal(size=(4, 3))


def black_box(x: np.ndarray) -> np.ndarray:
    return _softmax_np(x @ W)


def test_torch_module_needs_bounds() -> None:
    with pytest.raises(ValueError, match="bounds"):
        wrap(nn.Linear(4, 3), classes=3, input_shape=(4,))


def test_torch_module_is_wrapped_as_a_custom_model() -> None:
    net = nn.Linear(4, 3)
    model = wrap(net, bounds=(0, 1), classes=["a", "b", "c"], input_shape=(4,))
    assert isinstance(model, Model) and model.net is net
    assert model.spec["family"] == "custom" and model.differentiable
    x = torch.rand(6, 4)
    assert torch.equal(model(x), net(x))
    assert model.classes == ("a", "b", "c")


def test_a_model_is_returned_unchanged() -> None:
    model = build("softmax", input_shape=(4,), classes=3)
    assert wrap(model) is model


def test_black_box_predictions_match_the_function() -> None:
    model = wrap(black_box, bounds=(0, 1), classes=3, input_shape=(4,))
    assert isinstance(model, BlackBoxModel)
    assert model.differentiable is False
    x = torch.rand(50, 4)
    expected = black_box(x.numpy().astype(np.float64))
    assert np.abs(model.predict_proba(x).double().numpy() - expected).max() < 1e-6
    assert np.array_equal(model.predict(x).numpy(), expected.argmax(1))
    assert model.logits(x).shape == (50, 3)


def test_black_box_needs_its_description() -> None:
    with pytest.raises(ValueError, match="input_shape"):
        wrap(black_box, bounds=(0, 1), classes=3)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: np.ones((len(x), 2)) / 2,  # wrong number of classes
        lambda x: np.ones(len(x)),  # 1-D
        lambda x: np.ones((len(x) + 1, 3)) / 3,  # wrong batch size
    ],
)
def test_black_box_with_wrong_probability_shape_raises(fn: object) -> None:
    model = wrap(fn, bounds=(0, 1), classes=3, input_shape=(4,))
    with pytest.raises(ValueError, match="shape"):
        model.predict(torch.rand(5, 4))


def test_black_box_returning_logits_or_nan_raises() -> None:
    logits = wrap(lambda x: x @ W, bounds=(0, 1), classes=3, input_shape=(4,))
    with pytest.raises(ValueError, match="non-negative"):
        logits.predict_proba(torch.rand(5, 4) - 2)
    nan = wrap(lambda x: np.full((len(x), 3), np.nan), bounds=(0, 1), classes=3, input_shape=(4,))
    with pytest.raises(ValueError, match="finite"):
        nan.predict(torch.rand(5, 4))


def test_black_box_cannot_be_trained() -> None:
    model = wrap(black_box, bounds=(0, 1), classes=3, input_shape=(4,))
    with pytest.raises(ValueError, match="black-box"):
        fit(model, (torch.rand(8, 4), torch.zeros(8, dtype=torch.long)), epochs=1, quiet=True)


def test_anything_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expected an advlab Model"):
        wrap(42, bounds=(0, 1), classes=3, input_shape=(4,))
