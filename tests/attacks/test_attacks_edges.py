"""Edges found by fuzzing: NaN/inf logits, success decided on logits, NumPy inputs, tensor ε,
ε in the constructor, and progress that moves inside a batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advlab import attacks as A
from advlab.models import wrap

ATTACKS = [
    ("fgsm", lambda: A.FGSM(), 0.2),
    ("pgd", lambda: A.PGD(steps=3), 0.2),
    ("pgd-l2", lambda: A.PGD(norm="l2", steps=3), 1.0),
    ("bim", lambda: A.BIM(steps=3), 0.2),
    ("deepfool", lambda: A.DeepFool(steps=5), None),
    ("cw", lambda: A.CarliniWagner(steps=5, binary_search_steps=2), None),
    ("fmn", lambda: A.FMN(steps=5), None),
    ("ddn", lambda: A.DDN(steps=5), None),
]


class _Const(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.lin = nn.Linear(16, 3)
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1)) * 0 + self.value


def _x() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0)), torch.arange(6) % 3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(("name", "make", "eps"), ATTACKS)
def test_non_finite_logits_are_an_error_not_a_success(name, make, eps, value) -> None:
    model = wrap(_Const(value), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x, y = _x()
    with pytest.raises(ValueError, match="NaN or inf logits"):
        make()(model, x, y, eps=eps, seed=0)


def test_nan_logits_on_adversarials_only_are_an_error() -> None:
    class NanAway(nn.Module):  # finite on the clean inputs (≤ 0.5), NaN once an input moves above 0.6
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = torch.stack([x.flatten(1).sum(1), -x.flatten(1).sum(1), x.flatten(1)[:, 0]], dim=1)
            return torch.where(x.flatten(1).amax(1, keepdim=True) > 0.6, torch.full_like(z, float("nan")), z)

    model = wrap(NanAway(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x = torch.full((3, 1, 4, 4), 0.3)
    with pytest.raises(ValueError, match="its adversarials"):
        A.FGSM()(model, x, torch.ones(3, dtype=torch.long), eps=0.4)  # fooling class 1 raises every pixel


def test_success_is_decided_on_logits_not_rounded_probabilities() -> None:
    class NearTie(nn.Module):
        """float64 logits: class 2 beats class 1 by 1e-9, far below float32 resolution of the probabilities."""

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            z = torch.zeros(t.shape[0], 3, dtype=torch.float64)
            z[:, 1] = 40.0 - 1e-9
            z[:, 2] = 40.0
            return z + 0 * t.flatten(1).sum(1, keepdim=True).double()

    model = wrap(NearTie(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x, _ = _x()
    probs = model.predict_proba(x)  # float32: classes 1 and 2 tie, so their argmax says class 1
    assert torch.equal(probs[:, 1], probs[:, 2]) and (probs.argmax(1) == 1).all()
    result = A.FGSM()(model, x, torch.full((6,), 2), eps=0.0)
    # the model predicts class 2, the label: nothing is adversarial (rounded probabilities claimed 100%)
    assert not result.success.any() and (result.predictions == 2).all()
    assert result.robust_accuracy.item() == 1.0


@pytest.mark.parametrize(("name", "make", "eps"), ATTACKS[:2])
def test_numpy_inputs_and_tensor_eps_are_accepted(name, make, eps) -> None:
    model = wrap(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x, y = _x()
    a = make()(model, x, y, eps=eps, seed=0)
    b = make()(model, x.numpy(), y.numpy(), eps=torch.tensor(eps), seed=0)
    c = make()(model, x.numpy().astype(np.float64), y, eps=np.float64(eps), seed=0)
    assert torch.equal(a.adversarials, b.adversarials) and torch.equal(a.adversarials, c.adversarials)
    assert b.eps == [pytest.approx(eps)]
    two = make()(model, x, y, eps=torch.tensor([0.1, 0.2]), seed=0)
    assert two.num_eps == 2
    for bad in (True, "0.1", [[0.1]], torch.ones(2, 2)):
        with pytest.raises((TypeError, ValueError), match="eps"):
            make()(model, x, y, eps=bad)


def test_eps_as_a_constructor_argument() -> None:
    model = wrap(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x, y = _x()
    atk = A.PGD(steps=2, eps=0.1)
    assert atk.default_eps == [0.1] and atk.config()["eps"] == [0.1]
    assert torch.equal(atk(model, x, y, seed=0).adversarials, A.PGD(steps=2)(model, x, y, eps=0.1, seed=0).adversarials)
    assert atk(model, x, y, eps=0.3, seed=0).eps == [0.3]  # a call's eps wins
    assert A.ATTACKS.create("fgsm", eps=[0.1, 0.2]).default_eps == [0.1, 0.2]
    with pytest.raises(ValueError, match="eps must be finite"):
        A.FGSM(eps=-1)
    with pytest.raises(TypeError, match="norm must be a name"):
        A.PGD(norm=3)


class _Bar:
    def __init__(self) -> None:
        self.moves: list[float] = []

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def advance(self, task: int, amount: float) -> None:
        self.moves.append(amount)


@pytest.mark.parametrize(("name", "make", "eps"), ATTACKS[4:])
def test_minimisation_attacks_move_the_bar_inside_a_batch(name, make, eps, monkeypatch) -> None:
    import advlab.attacks.base as base

    bar = _Bar()

    class _Ctx:
        def __init__(self, quiet: bool) -> None:
            pass

        def __enter__(self) -> _Bar:
            return bar

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(base, "progress", _Ctx)
    model = wrap(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    x, y = _x()
    make()(model, x, y, seed=0, batch_size=3)
    assert len(bar.moves) > 4  # per step, not once per batch of 3
    assert sum(bar.moves) == pytest.approx(6)  # and the bar ends exactly at the number of inputs
