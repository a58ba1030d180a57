"""A small trained model on the embedded digits, shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from advlab import data
from advlab.models import build
from advlab.runs import save_run
from advlab.train import fit


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLP trained for 3 epochs on the 8×8 digits (a run folder)."""
    ds = data.load("digits", quiet=True)
    torch.manual_seed(0)
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, widths=[32])
    fit(model, ds, epochs=3, lr=3e-3, quiet=True)
    return save_run(tmp_path_factory.mktemp("engine") / "digits-mlp", model, {"name": "digits"}).path
