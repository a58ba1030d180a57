"""Black-box attacks against Foolbox 3 and torchattacks on a small digits CNN, at equal query budgets.

The peers' queries are counted by a wrapper that adds up the rows of every forward call; ours
get that many as ``max_queries``. Scale: 8×8 digits, 40 inputs (the MNIST numbers are in
``benchmarks/blackbox.py``).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from advlab import attacks, data, models, train

pytestmark = [pytest.mark.peer, pytest.mark.slow]  # about a minute on two busy cores


class _Counter(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model, self.rows = model, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.rows += x.shape[0]
        return self.model(x)


@pytest.fixture(scope="module")
def digits_cnn():
    ds = data.load("digits", quiet=True)
    torch.manual_seed(0)
    model = models.build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names)
    train.fit(model, ds, epochs=2, lr=1e-2, batch_size=64, quiet=True, seed=0)
    model.eval()
    x, y = ds.x_test[:60], ds.y_test[:60]
    keep = model.predict(x) == y
    return model, x[keep][:40], y[keep][:40]


def _foolbox(model, attack, x, y):
    fb = pytest.importorskip("foolbox")
    counter = _Counter(model).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, adv, ok = attack(fb.PyTorchModel(counter, bounds=(0, 1)), x, y, epsilons=None)
    return adv, ok, counter.rows // len(x)


def _median(adv: torch.Tensor, x: torch.Tensor, ok: torch.Tensor, norm: str) -> float:
    d = (adv - x).flatten(1)
    dist = d.norm(dim=1) if norm == "l2" else (d.abs() > 1e-12).sum(dim=1).float()
    return dist[ok].median().item()


@pytest.mark.parametrize(
    "name, ours, norm",
    [
        ("BoundaryAttack", lambda q: attacks.Boundary(steps=10**6, max_queries=q), "l2"),
        ("HopSkipJumpAttack", lambda q: attacks.HopSkipJump(steps=10**4, max_queries=q), "l2"),
        ("PointwiseAttack", lambda q: attacks.Pointwise(restarts=1000, max_queries=q), "l0"),
    ],
)
def test_median_distance_within_10_percent_of_foolbox_at_its_budget(digits_cnn, name, ours, norm):
    fb = pytest.importorskip("foolbox")
    model, x, y = digits_cnn
    peer = {"BoundaryAttack": lambda: fb.attacks.BoundaryAttack(steps=300), "HopSkipJumpAttack": lambda: fb.attacks.HopSkipJumpAttack(steps=8),
            "PointwiseAttack": lambda: fb.attacks.PointwiseAttack()}[name]()
    adv, ok, budget = _foolbox(model, peer, x, y)
    result = ours(budget)(model, x, y, seed=0)
    assert (result.queries <= budget).all()
    both = ok.cpu() & result.success[0]
    assert both.float().mean() >= 0.9
    theirs = _median(adv.cpu(), x, both, norm)
    mine = _median(result.adversarials[0], x, both, norm)
    assert mine <= 1.10 * theirs, (mine, theirs, budget)


@pytest.mark.parametrize("eps", [0.05, 0.1])
def test_square_succeeds_at_least_as_often_as_torchattacks(digits_cnn, eps):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits_cnn
    budget = 200
    theirs = torchattacks.Square(model, norm="Linf", eps=eps, n_queries=budget, n_restarts=1, seed=0)(x, y)
    their_rate = (model.predict(theirs) != y).float().mean().item()
    ours = attacks.Square(norm="linf", max_queries=budget)(model, x, y, eps=eps, seed=0)
    assert ours.success_rate.item() >= their_rate - 1e-9, (ours.success_rate.item(), their_rate)


def test_onepixel_succeeds_at_least_as_often_as_torchattacks(digits_cnn):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits_cnn
    theirs = torchattacks.OnePixel(model, pixels=2, steps=10, popsize=10, inf_batch=256)(x, y)
    their_rate = (model.predict(theirs) != y).float().mean().item()
    ours = attacks.OnePixel(pixels=2, population=60, generations=10)(model, x, y, seed=0)
    assert ours.success_rate.item() >= their_rate, (ours.success_rate.item(), their_rate)
