"""DeepFool: exact on linear models, better than a line search on a network, one run for a whole curve."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from advlab import attacks, data, models

SLACK = 1e-4  # DeepFool adds this to each step's distance so overshoot 0 still crosses


@pytest.fixture(scope="module")
def moons_linear():
    ds = data.load("moons", quiet=True)
    clf = LogisticRegression().fit(ds.x_train.numpy(), ds.y_train.numpy())
    # Wide bounds: no clipping, so the linearisation is the model and DeepFool is exact.
    return clf, models.wrap(clf, bounds=(-50.0, 50.0)), ds.x_test.float(), ds.y_test


@pytest.fixture(scope="module")
def digits_mlp(train_on_digits):
    return train_on_digits("mlp", widths=[32])


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_binary_logistic_regression_distance_is_analytic(moons_linear, norm: str) -> None:
    clf, model, x, _ = moons_linear
    y = model.predict(x)  # attack the model's own decisions: every input is "correct"
    overshoot = 0.02
    result = attacks.DeepFool(norm, overshoot=overshoot)(model, x, y)
    w, b = clf.coef_[0], clf.intercept_[0]
    dual = np.linalg.norm(w) if norm == "l2" else np.abs(w).sum()  # ‖w‖₂, or ‖w‖₁ for L∞
    expected = (np.abs(x.double().numpy() @ w + b) / dual + SLACK) * (1 + overshoot)
    assert result.success.all()
    np.testing.assert_allclose(result.min_distances.numpy(), expected, rtol=1e-4, atol=1e-6)
    assert (result.queries == 2).all()  # one step, then one forward to see it is fooled


def test_multinomial_logistic_regression_distance_is_the_nearest_facet() -> None:
    ds = data.load("iris", quiet=True)
    clf = LogisticRegression(max_iter=500).fit(ds.x_train.numpy(), ds.y_train.numpy())
    model = models.wrap(clf, bounds=(-50.0, 50.0))
    x = ds.x_test.float()
    y = model.predict(x)
    result = attacks.DeepFool(overshoot=0.0)(model, x, y)
    # A class region of a linear model is a convex polytope: the distance to its complement is the
    # distance to the nearest facet hyperplane (w_k − w_y)·x + (b_k − b_y) = 0.
    z = x.double().numpy() @ clf.coef_.T + clf.intercept_
    yy = y.numpy()
    dists = []
    for i in range(len(x)):
        gaps = [(z[i, yy[i]] - z[i, k]) / np.linalg.norm(clf.coef_[yy[i]] - clf.coef_[k]) for k in range(3) if k != yy[i]]
        dists.append(min(gaps) + SLACK)
    np.testing.assert_allclose(result.min_distances.numpy(), dists, rtol=1e-4, atol=1e-6)


def _line_search(model, x, y, direction, t_max=20.0, n=4000):
    """Smallest t on a fine grid with model(x + t·direction) ≠ y (inf if none)."""
    ts = torch.linspace(0, t_max, n)
    out = torch.full((len(x),), float("inf"))
    for i in range(len(x)):
        pts = model.bounds.clip(x[i][None] + ts[:, None, None, None] * direction[i][None])
        wrong = (model.predict(pts) != y[i]).nonzero()
        if len(wrong):
            out[i] = (pts[wrong[0, 0]] - x[i]).norm()
    return out


def test_l2_distances_beat_a_line_search_along_the_first_direction(digits_mlp) -> None:
    model, x, y = digits_mlp
    result = attacks.DeepFool("l2")(model, x, y)
    assert result.success.all()
    # The first DeepFool direction: the gradient of z_k − z_y for the rival k whose linearised
    # boundary is nearest at the clean input. A line search along it is DeepFool without iterating.
    xr = x.clone().requires_grad_(True)
    logits = model(xr)
    grads = torch.stack([torch.autograd.grad(logits[:, k].sum() - logits.gather(1, y[:, None]).sum(), xr, retain_graph=True)[0] for k in range(10)], 1)
    gaps = (logits.gather(1, y[:, None]) - logits).detach()
    norms = grads.flatten(2).norm(dim=2)
    ratio = gaps / norms.clamp_min(1e-12)
    ratio[torch.arange(len(y)), y] = float("inf")
    first = grads[torch.arange(len(y)), ratio.argmin(1)]
    first = first / first.flatten(1).norm(dim=1)[:, None, None, None]
    line = _line_search(model, x, y, first)
    ours = result.min_distances
    assert ours.median() <= line.median()
    assert (ours <= line * 1.02 + 1e-3).float().mean() >= 0.9


def test_one_run_answers_a_whole_curve(digits_mlp) -> None:
    model, x, y = digits_mlp
    eps = [0.1, 0.3, 0.6, 1.0, 3.0]
    result = attacks.DeepFool()(model, x, y, eps=eps)
    assert result.success.shape == (len(eps), len(x))
    rate = result.success_rate
    assert (rate[1:] >= rate[:-1]).all() and rate[-1] == 1.0
    for k, e in enumerate(eps):
        assert torch.equal(result.success[k], result.min_distances <= e + 1e-6)
        assert (result.distances["l2"][k] <= e + 1e-5).all()
    single = attacks.DeepFool()(model, x, y)
    torch.testing.assert_close(single.min_distances, result.min_distances)


def test_linf_variant_and_early_stopping(digits_mlp) -> None:
    model, x, y = digits_mlp
    linf = attacks.DeepFool("linf")(model, x, y, eps=[0.05, 0.5])
    assert linf.success[1].all() and linf.success_rate[0] < 1.0
    assert (linf.distances["linf"][1] <= 0.5 + 1e-6).all()
    l2 = attacks.DeepFool("l2", steps=50)(model, x, y)
    assert l2.queries.max() < 50  # samples stop once fooled: the batch ends long before 50 steps
    assert l2.median_distance("l2")[0] < linf.median_distance("l2")[1]  # L2 attack, smaller L2


def test_fewer_candidates_still_fool(digits_mlp) -> None:
    model, x, y = digits_mlp
    two = attacks.DeepFool(candidates=2)(model, x, y)
    full = attacks.DeepFool(candidates=10)(model, x, y)
    assert two.success.float().mean() > 0.95
    assert full.min_distances.median() <= two.min_distances.median() + 1e-6
