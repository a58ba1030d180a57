"""The query oracle and the base's query accounting: per-sample counts, exact budgets, honest totals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advlab.attacks import Boundary, HopSkipJump, Oracle, Pointwise, Square
from advlab.models import wrap


@pytest.fixture(scope="module")
def small(digits_mlp):
    model, x, y = digits_mlp
    return model, x[:16], y[:16]


def _linear_model() -> nn.Module:
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.copy_(torch.eye(3, 4))
        net.bias.zero_()
    return wrap(net, bounds=(0, 1), classes=3, input_shape=(4,))


def test_oracle_counts_rows_per_owner_and_refuses_beyond_the_budget_within_one_call():
    model = _linear_model()
    oracle = Oracle(model, 3, max_queries=2)
    x = torch.rand(7, 4)
    owner = torch.tensor([0, 0, 0, 1, 2, 0, 1])
    labels = oracle.labels(x, owner=owner)
    # sample 0: rows 0, 1 answered, rows 2 and 5 refused; sample 1 both; sample 2 one.
    assert labels[[2, 5]].tolist() == [-1, -1]
    assert (labels[[0, 1, 3, 4, 6]] >= 0).all()
    assert oracle.counts.tolist() == [2, 2, 1]
    assert oracle.remaining().tolist() == [0, 0, 1]
    probs = oracle.probs(x[:2], owner=torch.tensor([0, 2]))
    assert torch.isnan(probs[0]).all() and torch.isfinite(probs[1]).all()
    assert oracle.margin(x[:1], torch.tensor([0, 0, 0]), None, owner=torch.tensor([0])).item() == float("inf")
    assert oracle.counts.tolist() == [2, 2, 2] and oracle.exhausted().all()


def test_oracle_subset_shares_counts_and_budget():
    oracle = Oracle(_linear_model(), 4, max_queries=3)
    view = oracle.subset(torch.tensor([1, 3]))
    view.labels(torch.rand(2, 4))
    view.labels(torch.rand(3, 4), owner=torch.tensor([1, 1, 1]))
    assert oracle.counts.tolist() == [0, 1, 0, 3]
    assert view.remaining().tolist() == [2, 0]


def _counting_blackbox(model):
    seen = {"rows": 0}

    def fn(a: np.ndarray) -> np.ndarray:
        seen["rows"] += len(a)
        with torch.no_grad():
            return torch.softmax(model(torch.as_tensor(a)), dim=1).numpy()

    return wrap(fn, bounds=(0, 1), classes=model.classes, input_shape=model.input_shape), seen


@pytest.mark.parametrize(
    "attack, eps, extra",
    [
        # the base itself asks for: clean predictions (N) and verification (K·N) ...
        (Square(norm="linf", max_queries=40), [0.05, 0.1], 3),
        # ... and, for minimisation attacks, the verified minimum (2N) too.
        (Boundary(steps=200, max_queries=150), None, 4),
        (HopSkipJump(steps=5, max_queries=300), None, 4),
        (Pointwise(max_queries=60), None, 4),
    ],
)
def test_query_counts_are_every_call_into_a_counting_callable(small, attack, eps, extra):
    model, x, y = small
    bb, seen = _counting_blackbox(model)
    result = attack(bb, x, y, eps=eps, seed=0)
    assert seen["rows"] == int(result.queries.sum()) + extra * len(x)
    assert (result.queries <= attack.max_queries).all()


def test_budget_is_exact_for_samples_never_fooled(small):
    model, x, y = small
    result = Square(norm="linf", max_queries=25)(model, x, y, eps=0.01, seed=0)
    never = ~result.success[0]
    assert never.any()
    assert (result.queries[0][never] == 25).all()


def test_gradient_attacks_still_count_their_forward_calls(small):
    from advlab.attacks import PGD

    model, x, y = small
    result = PGD(steps=7)(model, x, y, eps=0.1, seed=0)
    assert (result.queries >= 7).all()
