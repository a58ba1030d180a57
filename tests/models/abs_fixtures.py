"""A small ABS (3 MNIST classes, short training, small bank) shared by the ABS tests."""

from __future__ import annotations

from pathlib import Path

import torch

from advlab.data import load
from advlab.models import Model, build
from advlab.train.abs_train import train_abs


def small_abs(data_dir: Path, epochs: int = 8) -> tuple[Model, torch.Tensor, torch.Tensor]:
    ds = load("mnist", data_dir=data_dir, quiet=True, classes=[0, 1, 2], limit_train=900, limit_test=60)
    torch.manual_seed(0)
    model = build("abs", input_shape=ds.input_shape, classes=ds.class_names, bank_size=400, mode="faithful")
    train_abs(model, ds, epochs=epochs, batch_size=64, seed=0, quiet=True)
    return model.eval(), ds.x_test[:24], ds.y_test[:24]
