"""rubbish-mnist: which MNIST models give confident labels to noise and to searched "fooling" images.

Seeds: Goodfellow et al. (2015, appendix A) feed N(0, I) "rubbish" to MNIST
models — a maxout net calls 98.35% of it a digit with p > 0.5, softmax
regression 59.8%, an RBF network 0%; Nguyen, Yosinski & Clune (2015) evolve
images (direct and CPPN encodings) that MNIST nets label as every digit with
≥ 99.99% confidence; the ABS post reports its model stays unsure on noise.
We train eight models (ABS when it exists), measure confidence on Gaussian and
uniform noise, and run every fooling strategy of ``advlab.fooling`` with one
budget per class. Every confidence reported is re-measured by the model on the
images saved under ``<out>/fooling/<model>/<strategy>.safetensors``.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.data import load
from advlab.evaluate.noise_confidence import NOISE_KINDS, noise_confidence
from advlab.experiments.registry import ExperimentContext, ExperimentResult
from advlab.experiments.rubbish_mnist_models import Trained, train_models
from advlab.experiments.rubbish_mnist_report import comparisons, figures, summary, tables
from advlab.fooling import FoolingResult, make_strategy
from advlab.models.parts import linear_head
from advlab.progress import echo

REQUIRED = 0.99
NGUYEN_REQUIRED = 0.9999  # Nguyen et al.: "≥ 99.99% confidence" for every MNIST digit
STRATEGIES = ("ascent", "ascent-nes", "evolve-direct", "evolve-cppn", "invert")
#: options per strategy on top of the shared budget
OPTIONS: dict[str, dict[str, Any]] = {"ascent": {"lr": 0.1}, "ascent-nes": {"samples": 20, "lr": 0.3, "tile": 4}, "evolve-direct": {},
                                      "evolve-cppn": {}, "invert": {"radius_factor": 3.0}}  # fmt: skip

FULL: dict[str, Any] = {
    "limit_train": 20000, "limit_test": 2000, "epochs": 3, "batch_size": 128, "lr": 1e-3, "lr_rbf": 1e-2,
    "mlp_widths": [256, 128], "maxout_units": 240, "maxout_pieces": 5, "pgd_steps": 7, "ensemble_members": 3,
    "ensemble_epochs": 2, "noise_n": 10000, "budget": 2000, "nguyen_budget": 4000,
    "abs_run": None,  # a run folder of `advlab train abs --data mnist`: adds the ABS row (slow: ~1 image/s per core)
}  # fmt: skip
FAST: dict[str, Any] = {
    **FULL, "limit_train": 3000, "limit_test": 500, "epochs": 2, "lr": 2e-3, "mlp_widths": [128], "maxout_units": 64,
    "maxout_pieces": 3, "pgd_steps": 3, "ensemble_members": 2, "ensemble_epochs": 1, "noise_n": 2000, "budget": 1000,
    "nguyen_budget": 1000,
}  # fmt: skip


def settings(ctx: ExperimentContext) -> dict[str, Any]:
    s = dict(FAST if ctx.fast else FULL)
    s.update({k: v for k, v in ctx.options.items() if k in s})
    return s


def applicable(strategy: str, model: Any) -> str | None:
    """None if ``strategy`` can run on ``model``, else why not."""
    if strategy == "invert":
        try:
            linear_head(model)
        except TypeError:
            return "no features → linear-head structure"
    return None


def fool_all(trained: dict[str, Trained], x_train: torch.Tensor, s: dict[str, Any], ctx: ExperimentContext) -> dict[str, Any]:
    """Every strategy on every model; each result saved, then loaded back and re-measured by its model."""
    out: dict[str, dict[str, FoolingResult | str]] = {}
    for name, t in trained.items():
        out[name] = {}
        for strategy in STRATEGIES:
            why = applicable(strategy, t.model)
            if why:
                out[name][strategy] = why
                continue
            echo(f"rubbish-mnist: {strategy} on {name}", ctx.quiet)
            method = make_strategy(strategy, budget=s["budget"], classes=t.model.num_classes, **OPTIONS[strategy])
            result = method(t.model, required=REQUIRED, seed=ctx.seed, reference=x_train, quiet=ctx.quiet)
            out[name][strategy] = _saved_and_remeasured(result, t, ctx, f"{name}/{strategy}")
    return out


def nguyen_runs(t: Trained, x_train: torch.Tensor, s: dict[str, Any], ctx: ExperimentContext) -> dict[str, FoolingResult]:
    """Both evolutionary encodings pushed to Nguyen et al.'s 99.99% on one model."""
    out = {}
    for strategy in ("evolve-direct", "evolve-cppn"):
        echo(f"rubbish-mnist: {strategy} to {NGUYEN_REQUIRED} on cnn-small", ctx.quiet)
        method = make_strategy(strategy, budget=s["nguyen_budget"], classes=t.model.num_classes)
        result = method(t.model, required=NGUYEN_REQUIRED, seed=ctx.seed + 1, reference=x_train, quiet=ctx.quiet)
        out[strategy] = _saved_and_remeasured(result, t, ctx, f"cnn-small/{strategy}-nguyen")
    return out


def _saved_and_remeasured(result: FoolingResult, t: Trained, ctx: ExperimentContext, name: str) -> FoolingResult:
    path = result.save(ctx.out_dir / "fooling" / f"{name}.safetensors")
    return FoolingResult.load(path).measure(t.model)


def scale(s: dict[str, Any], n_train: int, n_test: int, models: list[str], fast: bool) -> str:
    return (
        f"MNIST, {n_train} training / {n_test} test images{' (--fast)' if fast else ''}; models: {', '.join(models)}; "
        f"{s['epochs']} epochs each (Adam, lr {s['lr']:g}, cosine; RBF lr {s['lr_rbf']:g} from class-mean prototypes; "
        f"PGD training ε = 0.3, {s['pgd_steps']} steps; ensemble of {s['ensemble_members']} cnn-small × "
        f"{s['ensemble_epochs']} epochs). Noise: {s['noise_n']} draws per kind ({', '.join(NOISE_KINDS)}). Fooling: "
        f"every class, required p ≥ {REQUIRED}, budget {s['budget']} model evaluations per class per strategy "
        f"(a gradient step = 1; an NES step = 41, on a 7×7 coarse image (4×4 tiles); MAP-Elites: {s['budget']} × 10 children shared by all classes, "
        f"100 per generation); Nguyen comparison: both encodings on cnn-small to p ≥ {NGUYEN_REQUIRED}, budget "
        f"{s['nguyen_budget']} per class (Nguyen et al. evolved against LeNet trained on all of MNIST)."
    )


def run(ctx: ExperimentContext) -> ExperimentResult:
    s = settings(ctx)
    ds = load("mnist", data_dir=ctx.data_dir, quiet=ctx.quiet, limit_train=s["limit_train"], limit_test=s["limit_test"])
    trained = train_models(ds, s, ctx)
    echo("rubbish-mnist: noise", ctx.quiet)
    noise = {name: {kind: noise_confidence(t.model, kind, n=s["noise_n"], seed=ctx.seed + 7) for kind in NOISE_KINDS}
             for name, t in trained.items()}  # fmt: skip
    fooled = fool_all(trained, ds.x_train, s, ctx)
    nguyen = nguyen_runs(trained["cnn-small"], ds.x_train, s, ctx)
    metrics: dict[str, Any] = {
        "settings": s,
        "required": REQUIRED,
        "models": {n: {"label": t.label, "test_accuracy": t.test_accuracy, "train_seconds": t.seconds} for n, t in trained.items()},
        "abs_available": "abs" in trained,
        "noise": {n: {k: r.as_dict() for k, r in per.items()} for n, per in noise.items()},
        "fooling": {n: {st: (r if isinstance(r, str) else {"strategy": r.strategy, "config": r.config, "seconds": r.seconds,
                                                              "table": r.table()}) for st, r in per.items()}
                    for n, per in fooled.items()},
        "reached": {n: {st: (None if isinstance(r, str) else r.success_rate) for st, r in per.items()} for n, per in fooled.items()},
        "nguyen": {st: {"config": r.config, "seconds": r.seconds, "table": r.table()} for st, r in nguyen.items()},
        "models_dir": str(ctx.out_dir / "models"),
        "fooling_dir": str(ctx.out_dir / "fooling"),
    }  # fmt: skip
    return ExperimentResult(
        name="rubbish-mnist",
        title="Rubbish and fooling images on MNIST: noise, gradient ascent, evolution, inversion — which models resist",
        summary=summary(metrics, fooled, trained),
        metrics=metrics,
        figures=figures(fooled, nguyen, noise, trained),
        captions=_captions(s),
        comparisons=comparisons(noise, nguyen, trained),
        scale=scale(s, len(ds.x_train), len(ds.x_test), list(trained), ctx.fast),
        tables=tables(noise, fooled, trained),
    )


def _captions(s: dict[str, Any]) -> dict[str, str]:
    return {
        "noise_confidence": "Mean (bar) and median (dot) top-class probability on 3 kinds of noise, per model.",
        "reached": f"Fraction of the 10 digits each strategy drove to p ≥ {REQUIRED} within {s['budget']} model "
                   "evaluations per class (re-measured on the saved images); grey: strategy not applicable.",
        "nguyen": f"cnn-small: both evolutionary encodings pushed towards p ≥ {NGUYEN_REQUIRED} (Nguyen et al.'s level).",
        **{f"grid_{m}": f"{m}: one fooling image per digit (rows) and strategy (columns); title: p(target), red when "
                        f"≥ {REQUIRED}." for m in ("cnn-small", "maxout", "rbf", "cnn-small-pgd", "abs")},
    }  # fmt: skip
