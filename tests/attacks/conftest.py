"""Models and problems shared by the attack tests: small digits models and a linear model with known minima."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from advlab.data import Dataset, load
from advlab.models import Model, build, wrap
from advlab.train import fit


@pytest.fixture(scope="module")
def digits_mlp() -> tuple[Model, torch.Tensor, torch.Tensor]:
    """A small MLP trained on the embedded digits (initial weights from the global RNG), and the first
    32 test inputs and labels. A module wanting fewer inputs overrides it with a slice of this one.

    Module-scoped: each test module trains its own, as the minimisation-attack tests always have."""
    ds = load("digits")
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[32])
    fit(model, ds, epochs=8, lr=3e-3, quiet=True)
    return model, ds.x_test[:32], ds.y_test[:32]


@pytest.fixture(scope="session")
def train_on_digits() -> Callable[..., tuple[Model, torch.Tensor, torch.Tensor]]:
    """``train_on_digits(family, **options)``: a seeded model trained briefly on digits and up to
    80 test inputs it classifies correctly (attacks on them start from a correct prediction)."""

    def train(family: str, **options: Any) -> tuple[Model, torch.Tensor, torch.Tensor]:
        ds = load("digits", quiet=True)
        torch.manual_seed(0)  # the initial weights
        model = build(family, input_shape=ds.input_shape, classes=ds.class_names, **options)
        fit(model, ds, epochs=4, lr=1e-2, batch_size=64, quiet=True, seed=0)
        keep = model.predict(ds.x_test) == ds.y_test
        return model, ds.x_test[keep][:80], ds.y_test[keep][:80]

    return train


@pytest.fixture(scope="module")
def digits_logistic_regression() -> tuple[Model, Dataset]:
    """Multinomial scikit-learn logistic regression on flattened digits, exactly converted (bounds 0..1),
    and the dataset; its inputs are ``ds.x_test.flatten(1)``."""
    ds = load("digits")
    clf = LogisticRegression(max_iter=300).fit(ds.x_train.flatten(1).numpy(), ds.y_train.numpy())
    return wrap(clf, bounds=(0, 1)), ds


@pytest.fixture
def linear_problem() -> tuple[Model, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """A linear classifier whose minimal untargeted adversarials are analytic, with m_j = Z_y − Z_j:
    L2 min_{j≠y} m_j / ‖w_y − w_j‖₂ and L∞ min_{j≠y} m_j / ‖w_y − w_j‖₁.

    Returns (model, x, y, minima {"l2", "linf"}) for 32 inputs in 20 dimensions and 4 classes.
    The box (−2, 2) is wide enough never to bind."""
    n, d, k = 32, 20, 4
    g = torch.Generator().manual_seed(0)
    net = nn.Linear(d, k)
    with torch.no_grad():
        net.weight.copy_(torch.randn(k, d, generator=g))
        net.bias.copy_(torch.randn(k, generator=g))
    model = wrap(net, bounds=(-2, 2), classes=k, input_shape=(d,))
    x = torch.rand(n, d, generator=g) * 2 - 1
    with torch.no_grad():
        z = net(x)
    y = z.argmax(dim=1)
    w_diff = net.weight.detach()[y][:, None, :] - net.weight.detach()[None]
    margins = z.gather(1, y[:, None]) - z
    minima = {}
    for norm, dual in (("l2", 2), ("linf", 1)):
        dist = margins / torch.linalg.vector_norm(w_diff, ord=dual, dim=2)
        dist[torch.arange(n), y] = torch.inf
        minima[norm] = dist.min(dim=1).values
    return model, x, y, minima
