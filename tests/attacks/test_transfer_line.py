"""TransferLine: a substitute's adversarial direction, then a line search on the target."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import DDN, PGD, TransferLine
from advlab.models import build


def _linear(seed: int):
    torch.manual_seed(seed)
    return build("softmax", input_shape=(1, 8, 8), classes=3).eval()


def test_transfer_from_itself_matches_the_substitute_attack():
    model = _linear(0)
    x = torch.rand(12, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = model.predict(x)
    direct = DDN(steps=60)(model, x, y, seed=0)
    res = TransferLine(model, DDN(steps=60), binary_steps=14)(model, x, y, seed=0)
    assert res.success.all() and direct.success.all()
    # the line search can only shorten DDN's step along its own direction (up to the search's resolution)
    assert (res.min_distances <= direct.min_distances * 1.01 + 1e-4).all()
    assert (res.min_distances >= direct.min_distances * 0.5).all()


def test_transfer_to_another_model_is_verified_on_the_target():
    sub, target = _linear(0), _linear(5)
    x = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    y = target.predict(x)
    res = TransferLine(sub, DDN(steps=30))(target, x, y, seed=0)
    ok = res.success[0]
    assert torch.equal(target.predict(res.adversarials[0][ok]) != y[ok], torch.ones(int(ok.sum()), dtype=torch.bool))
    assert torch.isinf(res.min_distances[~ok]).all()


def test_bad_arguments():
    model = _linear(0)
    with pytest.raises(TypeError, match="substitute"):
        TransferLine(object(), DDN())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="minimisation"):
        TransferLine(model, PGD())
    with pytest.raises(ValueError, match="scales"):
        TransferLine(model, DDN(), scales=[0.0])
