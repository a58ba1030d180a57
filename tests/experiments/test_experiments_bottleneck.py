"""bottleneck-fooling: confident (≥ 0.99) images in [0, 1] from far points of a 2-D hidden space."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from advlab.experiments import EXPERIMENTS, ExperimentContext
from advlab.experiments import bottleneck_fooling as bf
from advlab.models import build


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    ctx = ExperimentContext(tmp_path_factory.mktemp("bottleneck"), quiet=True, fast=True, options={"data": "digits"})
    res = EXPERIMENTS.get("bottleneck-fooling").run(ctx)
    yield res
    for fig in res.figures.values():
        plt.close(fig)


def test_network_learns_digits_0_to_3(result):
    m = result.metrics
    assert m["data"] == "digits" and m["classes"] == ["0", "1", "2", "3"]
    assert m["test_accuracy"] > 0.9


def test_fooling_images_are_confident_and_far_from_the_data(result):
    rows = result.metrics["fooling"]
    assert [r["class"] for r in rows] == result.metrics["classes"]  # one per class: every region reaches infinity here
    for r in rows:
        assert r["predicted"] == r["class"]
        assert r["probability"] >= bf.REQUIRED_PROBABILITY
        radius = result.metrics["hidden_radius"]
        target = torch.tensor(r["target hidden point"]) - torch.as_tensor(result.metrics["hidden_centre"])
        assert float(target.norm()) == pytest.approx(3.0 * radius, rel=1e-3)
    assert result.metrics["fooling_min_probability"] >= bf.REQUIRED_PROBABILITY
    # farther from every training image than real test digits are on average
    assert result.metrics["fooling_mean_nearest_train_distance"] > result.metrics["test_mean_nearest_train_distance"]


def test_outputs_are_complete(result):
    assert set(result.figures) == {"hidden_space", "far_points", "fooling_images"}
    assert set(result.captions) == set(result.figures)
    assert "fast" in result.scale and result.summary


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return build("mlp", input_shape=(1, 8, 8), classes=4, widths=[16], bottleneck=2).eval()


def test_inverted_images_lie_in_the_box_and_move_towards_the_target(small_model):
    target = torch.tensor([[30.0, -20.0], [-25.0, 10.0]])
    x = bf.invert_features(small_model, target, steps=60, lr=0.1, seed=0)
    assert x.shape == (2, 1, 8, 8)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    start = bf.invert_features(small_model, target, steps=1, lr=1e-6, seed=0)
    before = (bf.embed(small_model, start) - target).norm(dim=1)
    after = (bf.embed(small_model, x) - target).norm(dim=1)
    assert bool((after < before).all())
    torch.testing.assert_close(x, bf.invert_features(small_model, target, steps=60, lr=0.1, seed=0))  # seeded


def test_far_targets_sit_in_their_class_region_at_the_requested_distance():
    head = torch.nn.Linear(2, 4)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]))
        head.bias.zero_()
    hidden = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    targets = bf.far_targets(head, hidden, radius_factor=4.0)
    assert sorted(targets) == [0, 1, 2, 3]
    for k, t in targets.items():
        assert int(head(t[None]).argmax()) == k
        assert float(t.norm()) == pytest.approx(4.0)
    # class 0 wins around angle 0: its arc wraps around the start of the circle, the middle is still angle 0
    torch.testing.assert_close(targets[0], torch.tensor([4.0, 0.0]), atol=0.05, rtol=0)


def test_a_bounded_region_gets_no_far_point():
    head = torch.nn.Linear(2, 3)
    with torch.no_grad():  # class 2's weight is inside the others' hull: it never wins far away
        head.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]))
        head.bias.copy_(torch.tensor([0.0, 0.0, 0.5]))
    targets = bf.far_targets(head, torch.randn(20, 2), radius_factor=5.0)
    assert sorted(targets) == [0, 1]


@pytest.mark.parametrize(("mask", "expected"), [
    ([True, True, False, False, True], (4, 3)),  # wraps around
    ([False, True, True, False], (1, 2)),
    ([True] * 3, (0, 3)),
    ([False] * 3, None),
])  # fmt: skip
def test_longest_circular_run(mask, expected):
    got = bf._longest_circular_run(torch.tensor(mask))
    if expected is None:
        assert got is None
    else:
        assert (got[0] % len(mask), got[1]) == expected


def test_unknown_data_choice_raises(tmp_path):
    with pytest.raises(ValueError, match="data"):
        bf.load_data(ExperimentContext(tmp_path, quiet=True, options={"data": "cifar"}))


def test_auto_falls_back_to_digits_without_mnist(tmp_path):
    ds = bf.load_data(ExperimentContext(tmp_path, data_dir=tmp_path, quiet=True, options={"data": "auto"}))
    assert ds.name == "digits" and ds.num_classes == 4


def test_auto_uses_mnist_when_present(shared_data_dir, tmp_path):
    ds = bf.load_data(ExperimentContext(tmp_path, data_dir=shared_data_dir, quiet=True, fast=True, options={"data": "auto"}))
    assert ds.name == "mnist" and ds.class_names == ("0", "1", "2", "3")
    assert len(ds.x_train) == bf.FAST_MNIST_LIMITS[0]
