"""Connected components of class regions, and the search for a slice that joins two points of one class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advlab.models import wrap
from advlab.viz import compute_slice
from advlab.viz.components import (
    anchors_connected,
    component_counts,
    count_components,
    disconnected_pairs,
    find_connecting_slice,
    segment_labels,
)


def test_counts_on_a_synthetic_label_image():
    labels = np.array(
        [
            [0, 0, 1, 2, 2],
            [0, 0, 1, 2, 2],
            [1, 1, 0, 1, 1],
            [2, 2, 1, 0, 0],
            [2, 2, 1, 0, 0],
        ]
    )
    # 4-connectivity: the lone 0 in the middle and the four 1-arms touch others only at corners
    assert count_components(labels, connectivity=4) == {0: 3, 1: 4, 2: 2}
    assert count_components(labels, connectivity=8) == {0: 1, 1: 1, 2: 2}
    feasible = np.ones_like(labels, dtype=bool)
    feasible[2, 2] = False  # outside H: belongs to no region
    assert count_components(labels, feasible, connectivity=4, num_classes=4) == {0: 2, 1: 4, 2: 2, 3: 0}
    assert count_components(labels, feasible, connectivity=8) == {0: 2, 1: 1, 2: 2}
    with pytest.raises(ValueError, match="connectivity"):
        count_components(labels, connectivity=6)


class Wall(nn.Module):
    """Class 1 on a wall {|x0 − 0.5| < 0.1, x2 < 0.5}, class 0 elsewhere: the segment at x2 = 0.1 crosses the wall,
    a path over its top (x2 > 0.5) does not."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inside = torch.minimum(0.1 - (x[:, 0] - 0.5).abs(), 0.5 - x[:, 2])
        return torch.stack([torch.zeros_like(inside), 50 * inside], dim=1)


@pytest.fixture(scope="module")
def wall():
    return wrap(Wall(), bounds=(0, 1), classes=["free", "wall"], input_shape=(3,))


A, B = torch.tensor([0.2, 0.5, 0.1]), torch.tensor([0.8, 0.5, 0.1])
FLAT, UP = torch.tensor([0.5, 0.9, 0.1]), torch.tensor([0.5, 0.5, 0.9])


def test_slices_see_the_wall_or_the_way_around(wall):
    flat = compute_slice(wall, A, B, FLAT, resolution=48)
    up = compute_slice(wall, A, B, UP, resolution=48)
    assert not anchors_connected(flat, 0, connectivity=4)
    assert anchors_connected(up, 0, connectivity=4)
    assert component_counts(flat) == {"free": 2, "wall": 1}
    assert component_counts(up) == {"free": 1, "wall": 1}
    assert (segment_labels(wall, A, B, 21) == 1).any()


def test_search_reports_the_disconnected_and_the_connected_slice(wall):
    res = find_connecting_slice(wall, A, B, {"flat": FLAT, "collinear": torch.tensor([0.5, 0.5, 0.1]), "up": UP}, resolution=48)
    assert res.found and res.connected_name == "up" and res.disconnected_name == "flat"
    assert res.segment_leaves_class and res.segment_classes == ["free", "wall"] and res.class_name == "free"
    assert [r["connected"] for r in res.tried] == [False, None, True] and "collinear" in res.tried[1]["note"]
    assert res.connected is not None and res.connected.anchors[1, 0] == pytest.approx(0.6)


def test_search_without_a_connecting_slice_and_errors(wall):
    res = find_connecting_slice(wall, A, B, {"flat": FLAT}, resolution=32)
    assert not res.found and res.disconnected is not None
    with pytest.raises(ValueError, match="one class"):
        find_connecting_slice(wall, A, torch.tensor([0.5, 0.5, 0.1]), {"up": UP})
    with pytest.raises(ValueError, match="at least one"):
        find_connecting_slice(wall, A, B, {})


def test_disconnected_pairs_finds_the_pair_across_the_wall(wall):
    x = torch.stack([A, torch.tensor([0.25, 0.2, 0.2]), B, torch.tensor([0.5, 0.5, 0.2])])
    assert disconnected_pairs(wall, x, max_pairs=5) == [(0, 2), (1, 2)]
