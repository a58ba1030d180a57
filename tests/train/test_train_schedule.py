"""Learning-rate schedules, as functions and as ``fit`` applies them step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advlab.models import build
from advlab.train import fit
from advlab.train.schedule import SCHEDULES, check_schedule, lr_at

GRID = np.linspace(0, 1, 1001)


def test_constant() -> None:
    assert all(lr_at("constant", 0.1, p) == 0.1 for p in GRID)


def test_cyclic_rises_to_the_peak_at_two_fifths_then_falls_to_zero() -> None:
    values = np.array([lr_at("cyclic", 0.2, p) for p in GRID])
    assert GRID[values.argmax()] == pytest.approx(0.4)
    assert values.max() == pytest.approx(0.2)
    assert values[0] == 0.0 and values[-1] == pytest.approx(0.0, abs=1e-12)
    assert lr_at("cyclic", 0.2, 0.2) == pytest.approx(0.1)  # linear on the way up
    assert lr_at("cyclic", 0.2, 0.7) == pytest.approx(0.1)  # and on the way down
    rising, falling = values[: 401], values[400:]
    assert (np.diff(rising) > 0).all() and (np.diff(falling) < 0).all()


def test_cosine_starts_at_base_and_ends_near_zero() -> None:
    values = np.array([lr_at("cosine", 0.1, p) for p in GRID])
    assert values[0] == pytest.approx(0.1) and values[-1] == pytest.approx(0.0, abs=1e-12)
    assert lr_at("cosine", 0.1, 0.5) == pytest.approx(0.05)
    assert (np.diff(values) <= 0).all()


def test_step_divides_by_ten_at_half_and_three_quarters() -> None:
    assert lr_at("step", 1.0, 0.49) == 1.0
    assert lr_at("step", 1.0, 0.5) == pytest.approx(0.1)
    assert lr_at("step", 1.0, 0.8) == pytest.approx(0.01)


def test_progress_is_clamped() -> None:
    assert lr_at("cosine", 0.1, -1.0) == pytest.approx(0.1) and lr_at("cosine", 0.1, 2.0) == pytest.approx(0.0)


def test_unknown_schedule() -> None:
    assert [check_schedule(s) for s in SCHEDULES] == list(SCHEDULES)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        check_schedule("linear")
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        lr_at("linear", 0.1, 0.5)


@pytest.mark.parametrize("schedule", ["cyclic", "cosine", "step"])
def test_fit_applies_the_schedule_each_step(schedule: str) -> None:
    # one step per epoch, so each epoch's recorded lr is the schedule at step (epoch - 1) / epochs
    torch.manual_seed(0)
    model = build("softmax", input_shape=(3,), classes=2)
    x, y = torch.rand(16, 3), torch.randint(0, 2, (16,))
    epochs = 10
    history = fit(model, (x, y), epochs=epochs, batch_size=16, lr=0.5, schedule=schedule, quiet=True)
    recorded = [e.lr for e in history.epochs]
    assert recorded == pytest.approx([lr_at(schedule, 0.5, k / epochs) for k in range(epochs)])
    if schedule == "cyclic":
        assert recorded[0] == 0.0 and max(recorded) == pytest.approx(0.5) and recorded.index(max(recorded)) == 4
    if schedule == "cosine":
        assert recorded[-1] < 0.03 * 0.5 and recorded[0] == 0.5
        assert math.isclose(recorded[5], 0.25)
