"""iris-fooling: the blog's three far points, 96.7% accuracy, exact conversion, MLP as confident far away."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from advlab.experiments import EXPERIMENTS, ExperimentContext
from advlab.experiments import iris_fooling as iris


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    ctx = ExperimentContext(tmp_path_factory.mktemp("iris"), quiet=True, fast=True, options={"queries": [(3, 8), (0.1, 5)]})
    res = EXPERIMENTS.get("iris-fooling").run(ctx)
    yield res
    for fig in res.figures.values():
        plt.close(fig)


def _independent_sklearn_fit():
    """scikit-learn's own fit on the canonical iris arrays, without advlab's loader."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris()
    x = data.data[:, 2:4]
    return LogisticRegression().fit(x, data.target), x, data.target


def _row(result, model, point):
    rows = [r for r in result.metrics["queries"] if r["model"] == model and r["point"] == f"({point[0]:g}, {point[1]:g})"]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(("point", "cls", "lo", "hi"), iris.PUBLISHED)
def test_published_points_match_sklearn_and_the_blog(result, point, cls, lo, hi):
    clf, _, _ = _independent_sklearn_fit()
    theirs = clf.predict_proba(np.array([point]))[0]
    row = _row(result, "logistic", point)
    assert row["advlab class"] == row["sklearn class"] == cls
    assert row["advlab P"] == pytest.approx(theirs.max(), abs=1e-3)
    assert row["sklearn P"] == pytest.approx(theirs.max(), abs=1e-3)
    assert lo - 1e-3 <= row["advlab P"] <= hi + 1e-3


def test_training_accuracy_is_96_7_percent(result):
    _, x, y = _independent_sklearn_fit()
    acc = result.metrics["models"]["logistic"]["training_accuracy"]
    assert acc == pytest.approx(0.967, abs=1e-3)
    assert len(result.metrics["models"]["logistic"]["misclassified"]) == round((1 - acc) * len(y)) == 5
    ours = [c for c in result.comparisons if "accuracy" in c.quantity][0]
    assert ours.ours == pytest.approx(100 * acc) and ours.paper == iris.PUBLISHED_ACCURACY


def test_converted_models_reproduce_sklearn_everywhere(result):
    for row in result.metrics["queries"]:
        assert row["advlab class"] == row["sklearn class"]
        assert row["advlab P"] == pytest.approx(row["sklearn P"], abs=1e-5)


def test_extra_queries_are_answered_by_both_models_once(result):
    points = [r["point"] for r in result.metrics["queries"]]
    assert points.count("(3, 8)") == 2  # logistic and MLP
    assert points.count("(0.1, 5)") == 2  # a published point passed again is not duplicated


def test_mlp_is_as_confident_far_from_the_data(result):
    mlp = result.metrics["models"]["mlp"]
    assert mlp["training_accuracy"] > 0.9
    assert mlp["far_points"] > 1000
    assert mlp["far_mean_top_probability"] > 0.95
    assert mlp["far_fraction_at_least_0.99"] > 0.8
    for point, *_ in iris.PUBLISHED:
        assert _row(result, "mlp", point)["advlab P"] > 0.95


def test_triple_point_is_where_all_three_classes_tie(result):
    lr = result.metrics["models"]["logistic"]
    (tp,) = lr["tie_points"]
    np.testing.assert_allclose(tp["probabilities"], [1 / 3] * 3, atol=1e-9)
    clf, _, _ = _independent_sklearn_fit()
    np.testing.assert_allclose(clf.predict_proba(np.array([tp["point"]]))[0], [1 / 3] * 3, atol=1e-3)
    assert len(lr["tie_lines"]) == 3


def test_outputs_are_complete(result):
    assert set(result.figures) == {"predictions", "regions", "uncertainty", "far"}
    assert set(result.captions) == set(result.figures)
    assert len(result.comparisons) == 1 + len(iris.PUBLISHED)
    assert "fast" in result.scale and result.summary


def test_mlp_fit_is_deterministic_for_a_seed():
    from advlab import data

    ds = data.load("iris", features=iris.FEATURES)
    x, y = (t.numpy() for t in ds.all())
    a = iris._fit_models(x.astype(np.float64), y, ds, seed=3)[1].sklearn.coefs_
    b = iris._fit_models(x.astype(np.float64), y, ds, seed=3)[1].sklearn.coefs_
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("bad", [[(1.0,)], [(1.0, float("nan"))], ["x"], [(1, 2, 3)]])
def test_bad_queries_raise(tmp_path, bad):
    ctx = ExperimentContext(tmp_path, quiet=True, fast=True, options={"queries": bad})
    with pytest.raises(ValueError, match="query"):
        iris.run(ctx)
