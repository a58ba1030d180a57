"""Acceptance: cnn-small reaches >= 98.5% MNIST test accuracy with a few CPU minutes of training.

Slow (minutes on a laptop CPU): run with ``pytest -m slow tests/train/test_train_mnist_slow.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from advlab import data
from advlab.models import build
from advlab.train import evaluate_accuracy, fit


@pytest.mark.slow
def test_cnn_small_reaches_98_5_percent_on_mnist(shared_data_dir: Path) -> None:
    ds = data.load("mnist", data_dir=shared_data_dir, quiet=True)
    torch.manual_seed(0)
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
    # Wong et al.'s fast-AT MNIST recipe (Adam, batch 100, cyclic lr peaking at 5e-3 at 2/5 of training),
    # shortened from 10 to 3 epochs: 99.02% here. The CLI defaults (Adam 1e-3, batch 128, 5 epochs) gave 98.63%.
    history = fit(model, ds, epochs=3, batch_size=100, lr=5e-3, schedule="cyclic", seed=0, quiet=True)
    accuracy = evaluate_accuracy(model, ds.x_test, ds.y_test)
    assert accuracy == pytest.approx(history.last.test_accuracy)
    assert accuracy >= 0.985, f"cnn-small MNIST test accuracy {accuracy:.4f} < 0.985"
