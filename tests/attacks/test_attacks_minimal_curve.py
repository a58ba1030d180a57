"""Minimisation attacks answer a whole accuracy-versus-ε curve from one run per batch."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import ATTACKS, DDN, FMN, CarliniWagner
from advlab.attacks.base import EPS_TOL

MINIMAL = {
    "fmn-l2": lambda: FMN(norm="l2", steps=50),
    "fmn-linf": lambda: FMN(norm="linf", steps=50),
    "fmn-l0": lambda: FMN(norm="l0", steps=50),
    "ddn": lambda: DDN(steps=50),
    "cw": lambda: CarliniWagner(steps=50, lr=0.1, binary_search_steps=4, initial_const=0.1),
}
EPS = {"l2": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0], "linf": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3], "l0": [0, 1, 2, 3, 5, 8]}


@pytest.fixture(scope="module")
def digits_mlp(digits_mlp):
    """The small digits MLP (tests/attacks/conftest.py) and 30 test inputs: batches of 12 leave 6."""
    model, x, y = digits_mlp
    return model, x[:30], y[:30]


def _counting_runs(attack):
    """Wrap the instance's ``run`` so the test can count how often the base calls it."""
    calls = []
    inner = attack.run

    def run(model, x, y, **kwargs):
        calls.append(len(x))
        return inner(model, x, y, **kwargs)

    attack.run = run
    return calls


@pytest.mark.parametrize("name", list(MINIMAL))
def test_curve_from_one_run_per_batch(digits_mlp, name):
    model, x, y = digits_mlp
    attack = MINIMAL[name]()
    eps = EPS[attack.norm.name]
    calls = _counting_runs(attack)
    result = attack(model, x, y, eps=eps, batch_size=12, seed=0)
    assert calls == [12, 12, 6]  # one run per batch, not one per ε

    acc = result.robust_accuracy
    assert acc.shape == (len(eps),)
    assert torch.all(acc[1:] <= acc[:-1])  # non-increasing in ε
    correct = result.clean_predictions == y
    assert acc[0].item() == pytest.approx(correct.float().mean().item())
    for k, e in enumerate(eps):
        # Robust at ε exactly when the minimal adversarial lies farther than ε (or none was found).
        expected = (correct & (result.min_distances > e + EPS_TOL)).float().mean().item()
        assert acc[k].item() == pytest.approx(expected)
        within = result.distances[attack.norm.name][k]
        assert (within[result.success[k]] <= e + 1e-5).all()
    assert acc[-1] < acc[0]


def test_curve_agrees_with_the_minimal_run(digits_mlp):
    model, x, y = digits_mlp
    minimal = FMN(norm="l2", steps=50)(model, x, y, seed=0)
    curve = FMN(norm="l2", steps=50)(model, x, y, eps=[0.5, 1.0], seed=0)
    assert minimal.eps is None and minimal.num_eps == 1
    assert torch.equal(minimal.min_distances, curve.min_distances)
    # At each ε the result is the minimal adversarial where it fits, else the clean input.
    for k, e in enumerate([0.5, 1.0]):
        fits = (minimal.min_distances <= e + EPS_TOL).reshape(-1, 1, 1, 1)
        assert torch.equal(curve.adversarials[k], torch.where(fits, minimal.adversarials[0], x))


def test_minimisation_attacks_are_built_by_name_with_their_options():
    for name, cls in {"cw": CarliniWagner, "ddn": DDN, "fmn": FMN}.items():
        atk = ATTACKS.create(name, steps=7)
        assert type(atk) is cls and atk.minimization and atk.steps == 7
    with pytest.raises(ValueError, match="unknown option"):
        ATTACKS.create("fmn", stpes=7)
