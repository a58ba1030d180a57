"""The class × strategy grid of fooling images: arrays first, then the picture."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from advlab.fooling import FoolingResult
from advlab.viz import FoolingGridDisplay, fooling_grid


def _result(name: str, targets: list[int], conf: list[float]) -> FoolingResult:
    n = len(targets)
    t = torch.tensor(targets)
    images = torch.stack([torch.full((1, 3, 3), 0.1 * k) for k in targets])
    return FoolingResult(name, {}, 0.99, images, t, torch.tensor(conf, dtype=torch.float64), t,
                         torch.tensor(conf, dtype=torch.float64), torch.arange(n) + 10, torch.arange(n),
                         torch.zeros(n, dtype=torch.float64), ("a", "b", "c"))


def test_grid_lines_results_up_by_class():
    data = fooling_grid({"one": _result("one", [0, 2], [0.995, 0.5]), "two": _result("two", [2], [0.999])})
    assert data.strategies == ("one", "two") and data.classes.tolist() == [0, 2]
    assert data.images.shape == (2, 2, 3, 3)
    np.testing.assert_allclose(data.images[1, 0], 0.2)
    assert np.isnan(data.target_confidences[0, 1])  # "two" has no image for class 0
    assert data.success.tolist() == [[True, False], [False, True]]
    assert data.queries.tolist() == [[10, -1], [11, 10]]
    with pytest.raises(ValueError, match="at least one"):
        fooling_grid({})


def test_display_draws_one_axis_per_cell():
    display = FoolingGridDisplay.from_results([_result("one", [0, 1, 2], [0.2, 0.995, 0.999999])])
    assert display.axes_.shape == (3, 1)
    assert display.axes_[1][0].get_title() == "0.9950"
    assert display.axes_[1][0].title.get_color() == "tab:red"
    plt.close(display.figure_)
