"""Iris petals: 96.7% accurate classifiers that are nearly certain far from every flower.

From the blog post "I pity the fool, deep learning style": a multinomial
logistic regression (scikit-learn defaults) on petal length and width labels
the whole plane, so points no flower comes near, such as (0.1, 5), (10, 10)
and (5, −5), get near-certain answers. An MLP on the same features does the
same. Both are converted exactly to advlab models, which draw the pictures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.data import load
from advlab.experiments.iris_figures import far_figure, predictions_figure, regions_figure, ties_figure
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult
from advlab.models import Model, wrap
from advlab.viz.uncertainty import Ties, least_certain_point, linear_ties

FEATURES = ("petal length", "petal width")
# (point, class, lowest and highest probability the post prints)
PUBLISHED: tuple[tuple[tuple[float, float], str, float, float], ...] = (
    ((0.1, 5.0), "setosa", 0.998, 0.998),
    ((10.0, 10.0), "virginica", 1.000, 1.000),
    ((5.0, -5.0), "versicolor", 0.992, 0.993),
)
PUBLISHED_ACCURACY = 96.7  # percent, training accuracy on all 150 flowers
TIE_WINDOW = ((0.0, 8.0), (-0.5, 5.0))  # holds the data and the logistic model's triple point
FAR_WINDOW = ((-5.0, 12.0), (-6.0, 12.0))
FAR_FROM_DATA_CM = 2.0  # "far": farther than this from every flower


@dataclass
class FittedModel:
    """One classifier, as scikit-learn fitted it and as the exactly converted advlab model."""

    key: str
    title: str
    sklearn: Any
    model: Model
    accuracy: float
    predictions: np.ndarray

    def proba(self, points: np.ndarray) -> np.ndarray:
        """advlab probabilities for (M, 2) NumPy points (float64 out)."""
        return self.model.predict_proba(torch.as_tensor(np.asarray(points), dtype=torch.float32)).double().numpy()


def _fit_models(x: np.ndarray, y: np.ndarray, ds: Any, seed: int) -> list[FittedModel]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    specs = [
        ("logistic", "multinomial logistic regression", LogisticRegression()),
        # lbfgs suits 150 samples; ReLU units make the logits grow linearly far away, like the linear model's
        ("mlp", "MLP, 100 ReLU units", MLPClassifier(hidden_layer_sizes=(100,), solver="lbfgs", max_iter=2000, random_state=seed)),
    ]
    fitted = []
    for key, title, clf in specs:
        clf.fit(x, y)
        model = wrap(clf, bounds=ds.bounds, classes=ds.class_names)
        pred = clf.predict(x)
        fitted.append(FittedModel(key, title, clf, model, float((pred == y).mean()), pred))
    return fitted


def _check_queries(raw: Any) -> list[tuple[float, float]]:
    out = []
    for q in raw or ():
        if not isinstance(q, (tuple, list)) or len(q) != 2:
            raise ValueError(f"iris-fooling: a query point must be (petal length, petal width), got {q!r}")
        x, y = float(q[0]), float(q[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"iris-fooling: query points must be finite numbers, got {q!r}")
        out.append((x, y))
    return out


def _query_rows(models: list[FittedModel], points: list[tuple[float, float]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    published = {p: (c, lo, hi) for p, c, lo, hi in PUBLISHED}
    arr = np.array(points, dtype=np.float64)
    rows = []
    for fm in models:
        theirs, ours = fm.sklearn.predict_proba(arr), fm.proba(arr)
        for k, point in enumerate(points):
            blog = published.get(point) if fm.key == "logistic" else None
            rows.append({
                "model": fm.key,
                "point": f"({point[0]:g}, {point[1]:g})",
                "sklearn class": names[int(theirs[k].argmax())],
                "sklearn P": float(theirs[k].max()),
                "advlab class": names[int(ours[k].argmax())],
                "advlab P": float(ours[k].max()),
                "blog": f"{blog[0]} {_range(blog[1], blog[2])}" if blog else None,
            })  # fmt: skip
    return rows


def _range(lo: float, hi: float) -> str:
    return f"{lo:.3f}" if lo == hi else f"{lo:.3f}–{hi:.3f}"


def _far_confidence(fm: FittedModel, x: np.ndarray, resolution: int) -> dict[str, float]:
    """Top probability on the far window's grid points that lie farther than FAR_FROM_DATA_CM from every flower."""
    (x0, x1), (y0, y1) = FAR_WINDOW
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)), -1).reshape(-1, 2)
    nearest = np.sqrt(((grid[:, None, :] - x[None, :, :]) ** 2).sum(-1)).min(axis=1)
    top = fm.proba(grid[nearest > FAR_FROM_DATA_CM]).max(axis=1)
    return {
        "far_points": int(top.size),
        "far_mean_top_probability": float(top.mean()),
        "far_min_top_probability": float(top.min()),
        "far_fraction_at_least_0.99": float((top >= 0.99).mean()),
    }


def _ties(fm: FittedModel) -> Ties:
    (xl, yl) = TIE_WINDOW
    if fm.key == "logistic":
        return linear_ties(fm.sklearn.coef_, fm.sklearn.intercept_, xl, yl)
    # A network's tie curves can meet anywhere: search the whole far window for its least certain point.
    return Ties(points=[least_certain_point(fm.proba, *FAR_WINDOW)])


def _model_metrics(fm: FittedModel, ties: Ties, x: np.ndarray, y: np.ndarray, names: tuple[str, ...], resolution: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": fm.title,
        "training_accuracy": fm.accuracy,
        "misclassified": np.flatnonzero(fm.predictions != y),
        **_far_confidence(fm, x, resolution),
        "tie_points": [{"classes": [names[c] for c in tp.classes], "point": tp.point, "probabilities": tp.probabilities} for tp in ties.points],
    }
    if fm.key == "logistic":
        out["coef"], out["intercept"] = fm.sklearn.coef_, fm.sklearn.intercept_
        out["tie_lines"] = [
            {"classes": [names[s.classes[0]], names[s.classes[1]]], "equation": f"{s.coef[0]:.4f}·length {s.coef[1]:+.4f}·width {s.offset:+.4f} = 0"}
            for s in ties.segments
        ]  # fmt: skip
    else:
        out["iterations"] = int(fm.sklearn.n_iter_)
    return out


def _comparisons(rows: list[dict[str, Any]], logistic: FittedModel) -> list[Comparison]:
    out = [Comparison("logistic regression: training accuracy (150 flowers)", 100 * logistic.accuracy, PUBLISHED_ACCURACY, "%",
                      "sklearn defaults: L2, C=1, lbfgs")]  # fmt: skip
    by_point = {r["point"]: r for r in rows if r["model"] == "logistic"}
    for point, cls, lo, hi in PUBLISHED:
        r = by_point[f"({point[0]:g}, {point[1]:g})"]
        paper: float | str = lo if lo == hi else _range(lo, hi)
        note = f"class {r['advlab class']} (blog: {cls}); sklearn's own P = {r['sklearn P']:.5f}"
        out.append(Comparison(f"P({r['advlab class']}) at {r['point']}", round(r["advlab P"], 6), paper, "", note))
    return out


SUMMARY = """\
A logistic regression on two iris measurements (petal length and width, in cm) gets 145 of 150 flowers right. \
But it must answer for every point of the plane, and its answers grow more certain the farther a point lies from \
the boundaries between classes, which is to say the farther it lies from the flowers. A "flower" with petals 0.1 cm \
long and 5 cm wide, one 10 cm by 10 cm, or one with a negative width: none resembles anything the model saw, yet it \
names a species for each with 99% certainty or more.

The pictures show why. The plane is cut into three regions by straight lines, and along each line two species are \
equally likely (probability ½ each far from the third species); the three lines meet at one point where all three \
are equally likely (⅓ each). Everywhere else the model is confident, and away from the lines it quickly becomes \
certain. A small neural network fitted to the same flowers draws curved boundaries but behaves the same way: far \
from the data it is just as sure of itself, though it may disagree with the linear model about which species a far \
point is. High confidence says the point is far from a boundary, not that it resembles the training data."""


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Fit both classifiers on all 150 flowers, answer the query points, draw the four figures."""
    ds = load("iris", features=FEATURES, quiet=ctx.quiet)
    x_t, y_t = ds.all()
    x, y = x_t.double().numpy(), y_t.numpy()
    names = ds.class_names
    models = _fit_models(x, y, ds, ctx.seed)
    # published points first; repeats (e.g. a published point passed again with --query) are answered once
    points = list(dict.fromkeys([p for p, *_ in PUBLISHED] + _check_queries(ctx.options.get("queries"))))
    rows = _query_rows(models, points, names)
    resolution = 200 if ctx.fast else 400
    ties = {fm.key: _ties(fm) for fm in models}
    metrics = {
        "features": list(FEATURES),
        "samples": len(y),
        "models": {fm.key: _model_metrics(fm, ties[fm.key], x, y, names, resolution // 2) for fm in models},
        "queries": rows,
        "far_from_data_cm": FAR_FROM_DATA_CM,
    }
    figures = {
        "predictions": predictions_figure(models, x, y, names),
        "regions": regions_figure(models, x, y, names, resolution),
        "uncertainty": ties_figure(models, ties, x, y, names, TIE_WINDOW, resolution),
        "far": far_figure(models, x, y, names, points, FAR_WINDOW, resolution),
    }
    captions = {
        "predictions": "Each flower coloured by the species the model predicts; its marker shape is its true species. "
        "Red circles: misclassified flowers (several flowers share the same measurements).",
        "regions": "Decision regions around the data; colour strength is the top class probability.",
        "uncertainty": "Lines of maximum uncertainty: two species tie there (P = ½ each away from the third). "
        "They meet at the triple point, P = ⅓ each. For the MLP the tie lines are curves; the white dot is its "
        "least certain point in the whole far window, found numerically (here it may lie at impossible, negative lengths).",
        "far": f"The same models over a window far larger than the data (petal length {FAR_WINDOW[0][0]:g}…{FAR_WINDOW[0][1]:g}, "
        f"width {FAR_WINDOW[1][0]:g}…{FAR_WINDOW[1][1]:g} cm). Dashed lines: top probability 0.9 / 0.99 / 0.999; "
        "dotted box: the physically possible measurements [0, 10] cm. Stars: query points with the predicted class and probability.",
    }  # fmt: skip
    lr, mlp = models
    scale = (
        f"Full scale: all {len(y)} flowers, features {FEATURES[0]} and {FEATURES[1]}; logistic regression with "
        f"scikit-learn defaults; MLP(100 ReLU, lbfgs, random_state={ctx.seed}) reached {100 * mlp.accuracy:.1f}%. "
        f"Pictures on {resolution}×{resolution} grids" + (" (--fast: coarser grids)." if ctx.fast else ".")
    )
    return ExperimentResult(
        name="iris-fooling",
        title="Iris: confident far from every flower",
        summary=SUMMARY,
        metrics=metrics,
        figures=figures,
        captions=captions,
        comparisons=_comparisons(rows, lr),
        scale=scale,
        tables={"Query points (both models, scikit-learn beside the converted advlab model)": rows},
    )
