"""``fit``: it learns, it is deterministic, it records, and it refuses bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from advlab import data
from advlab.data.dataset import Dataset
from advlab.models import Model, build, wrap
from advlab.train import METHODS, BatchLoss, FitState, History, TrainingMethod, fit


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return data.load("digits", quiet=True)


def _mlp(ds: Dataset, seed: int = 0, **options: Any) -> Model:
    torch.manual_seed(seed)
    return build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[32], **options)


def _weights(model: Model) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


def test_fit_lowers_the_loss_and_learns_digits(digits: Dataset) -> None:
    model = _mlp(digits)
    before = F.cross_entropy(model(digits.x_train), digits.y_train).item()
    history = fit(model, digits, epochs=3, batch_size=64, lr=3e-3, quiet=True)
    assert isinstance(history, History) and [e.epoch for e in history.epochs] == [1, 2, 3]
    losses = [e.loss for e in history.epochs]
    assert losses[0] < before and losses[2] < losses[1] < losses[0]
    after = F.cross_entropy(model(digits.x_train), digits.y_train).item()
    assert after < 0.5 * before
    acc = history.last.test_accuracy
    assert acc is not None and acc > 0.85
    assert acc == pytest.approx((model.predict(digits.x_test) == digits.y_test).float().mean().item())
    assert not model.training  # left in eval mode


def test_same_seed_same_weights_different_seed_different(digits: Dataset) -> None:
    runs = []
    for seed in (0, 0, 1):
        model = _mlp(digits)
        fit(model, digits, epochs=1, batch_size=64, seed=seed, quiet=True)
        runs.append(_weights(model))
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(runs[0], runs[2], strict=True))


def test_training_is_recorded_in_spec_and_history_config(digits: Dataset) -> None:
    model = _mlp(digits)
    history = fit(model, digits, epochs=1, batch_size=100, lr=2e-3, optimizer="sgd", momentum=0.5,
                  weight_decay=1e-4, schedule="cosine", seed=3, quiet=True)
    assert model.spec["training"] == {
        "method": "standard", "epochs": 1, "batch_size": 100, "optimizer": "sgd", "lr": 2e-3,
        "momentum": 0.5, "schedule": "cosine", "weight_decay": 1e-4, "seed": 3,
    }
    assert history.config["method"] == {"method": "standard"}
    assert History.from_json(history.to_json()).epochs == history.epochs


def test_callbacks_see_epoch_zero_then_each_epoch(digits: Dataset) -> None:
    seen: list[tuple[int, int, bool]] = []

    def callback(state: FitState) -> None:
        seen.append((state.epoch, len(state.history.epochs), state.model is model))

    model = _mlp(digits)
    fit(model, digits, epochs=3, batch_size=256, callbacks=[callback], quiet=True)
    assert seen == [(0, 0, True), (1, 1, True), (2, 2, True), (3, 3, True)]


def test_tuple_data_without_a_test_split(digits: Dataset) -> None:
    model = _mlp(digits)
    history = fit(model, (digits.x_train, digits.y_train), epochs=1, quiet=True)
    assert history.last.test_accuracy is None
    numpy_data = (digits.x_train.numpy(), digits.y_train.numpy(), digits.x_test.numpy(), digits.y_test.numpy())
    assert fit(_mlp(digits), numpy_data, epochs=1, quiet=True).last.test_accuracy is not None


def _bad_call(digits: Dataset, what: str) -> dict[str, Any]:
    x, y = digits.x_train[:64], digits.y_train[:64]
    cases: dict[str, dict[str, Any]] = {
        "shape": {"data": (x.reshape(64, 64), y)},
        "count": {"data": (x, y[:10])},
        "label-high": {"data": (x, torch.full((64,), 10))},
        "label-negative": {"data": (x, torch.full((64,), -1))},
        "label-2d": {"data": (x, y[:, None])},
        "nan": {"data": (x.masked_fill(torch.rand_like(x) < 0.1, float("nan")), y)},
        "outside-bounds": {"data": (x * 16, y)},
        "empty": {"data": (x[:0], y[:0])},
        "test-shape": {"data": (x, y, x[:, :, :4], y)},
        "epochs-0": {"epochs": 0},
        "epochs-float": {"epochs": 2.5},
        "batch-0": {"batch_size": 0},
        "lr-0": {"lr": 0.0},
        "lr-negative": {"lr": -1e-3},
        "lr-nan": {"lr": float("nan")},
        "momentum": {"momentum": 1.5},
        "weight-decay": {"weight_decay": -1.0},
        "optimizer": {"optimizer": "rmsprop"},
        "schedule": {"schedule": "exponential"},
        "resume-without-dir": {"resume": True},
    }
    return {"data": (x, y), **cases[what]}


@pytest.mark.parametrize(
    ("what", "match"),
    [
        ("shape", "model expects"),
        ("count", "64 inputs but 10 labels"),
        ("label-high", "labels must be in 0..9"),
        ("label-negative", "labels must be in 0..9"),
        ("label-2d", "one class index per input"),
        ("nan", "NaN"),
        ("outside-bounds", "inside the model's bounds"),
        ("empty", "empty"),
        ("test-shape", "test data"),
        ("epochs-0", "epochs must be a positive integer"),
        ("epochs-float", "epochs must be a positive integer"),
        ("batch-0", "batch_size must be a positive integer"),
        ("lr-0", "lr must be positive"),
        ("lr-negative", "lr must be positive"),
        ("lr-nan", "lr must be a finite number"),
        ("momentum", "momentum"),
        ("weight-decay", "weight_decay"),
        ("optimizer", "unknown optimizer 'rmsprop'"),
        ("schedule", "unknown learning-rate schedule 'exponential'"),
        ("resume-without-dir", "checkpoint_dir"),
    ],
)
def test_bad_input_raises_value_error(digits: Dataset, what: str, match: str) -> None:
    model = _mlp(digits)
    before = _weights(model)
    kwargs = _bad_call(digits, what)
    with pytest.raises(ValueError, match=match):
        fit(model, kwargs.pop("data"), quiet=True, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(model), strict=True))  # untouched


def test_bad_types_raise_type_error(digits: Dataset) -> None:
    x, y = digits.x_train[:64], digits.y_train[:64]
    model = _mlp(digits)
    with pytest.raises(TypeError, match="labels must be integer"):
        fit(model, (x, y.float()), quiet=True)
    with pytest.raises(TypeError, match="inputs must be floating point"):
        fit(model, (x.long(), y), quiet=True)
    with pytest.raises(TypeError, match="Dataset or"):
        fit(model, (x, y, x), quiet=True)
    with pytest.raises(TypeError, match="advlab Model"):
        fit(torch.nn.Linear(64, 10), (x, y), quiet=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="TrainingMethod"):
        fit(model, (x, y), method="standard", quiet=True)  # type: ignore[arg-type]


def test_black_box_model_cannot_be_trained() -> None:
    box = wrap(lambda a: np.full((len(a), 2), 0.5), bounds=(0, 1), classes=2, input_shape=(3,))
    with pytest.raises(ValueError, match="black-box"):
        fit(box, (torch.rand(8, 3), torch.zeros(8, dtype=torch.long)), quiet=True)


def test_diverging_loss_stops_with_a_clear_error() -> None:
    torch.manual_seed(0)
    model = build("softmax", input_shape=(4,), classes=2, bounds=(0, 1e6))
    x = torch.rand(64, 4) * 1e6
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(model, (x, torch.randint(0, 2, (64,))), optimizer="sgd", lr=1e30, epochs=3, quiet=True)


class SmoothedTraining(TrainingMethod):
    """A test-only method: label-smoothed cross-entropy; also checks what fit hands it."""

    name = "smoothed-test"
    default_schedule = "cosine"

    def __init__(self, smoothing: float = 0.1) -> None:
        self.smoothing = smoothing
        self.calls = 0

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        if not model.training:
            raise AssertionError("fit must hand the method a model in train mode")
        model.eval()  # e.g. an attack inside the method switches modes; fit must switch back
        self.calls += 1
        logits = model(x)
        return BatchLoss(F.cross_entropy(logits, y, label_smoothing=self.smoothing), logits)

    def params(self) -> dict[str, Any]:
        return {"smoothing": self.smoothing}


def test_custom_training_method_plugs_in(digits: Dataset) -> None:
    METHODS.register("smoothed-test", SmoothedTraining)
    assert "smoothed-test" in METHODS.names()
    method = METHODS.create("smoothed-test", smoothing=0.2)
    assert isinstance(method, SmoothedTraining) and method.smoothing == 0.2
    model = _mlp(digits)
    history = fit(model, digits, method=method, epochs=2, batch_size=128, lr=3e-3, quiet=True)
    assert method.calls == 2 * -(-len(digits.x_train) // 128)
    assert model.spec["training"]["method"] == "smoothed-test"
    assert model.spec["training"]["smoothing"] == 0.2
    assert model.spec["training"]["schedule"] == "cosine"  # the method's default schedule
    assert history.epochs[1].loss < history.epochs[0].loss
    with pytest.raises(ValueError, match="unknown training method"):
        METHODS.create("no-such-method")
    with pytest.raises(ValueError, match="smoothed-test"):
        METHODS.create("smoothed-test", temperature=2.0)
