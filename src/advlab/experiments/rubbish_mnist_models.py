"""The models of rubbish-mnist and how each is trained.

Softmax regression, an MLP, cnn-small, a maxout MLP, a shallow RBF network,
cnn-small adversarially trained (PGD, ε = 0.3, Madry et al.'s objective), and
an ensemble of cnn-small nets. **ABS hook:** when a model family named "abs"
is registered (``advlab.models.register``; the analysis-by-synthesis model is
being built separately), ``abs_model`` builds it and trains it with the
training method registered as "abs" if there is one (else the standard
objective); add its settings to ``SETTINGS`` there. Until then the experiment
reports the ABS row as not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advlab.data.dataset import Dataset
from advlab.experiments.registry import ExperimentContext
from advlab.models import MODELS as MODEL_FAMILIES
from advlab.models import Model, build, init_rbf_from_data, make_ensemble
from advlab.progress import echo
from advlab.runs import save_run
from advlab.train import METHODS, fit


@dataclass
class Trained:
    model: Model
    label: str
    seconds: float
    test_accuracy: float


def _norm(ds: Dataset) -> dict[str, float]:
    return {"mean": float(ds.x_train.mean()), "std": float(ds.x_train.std())}


def _fit(model: Model, ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int, *, epochs: int | None = None,
         lr: float | None = None, method: Any = None) -> Model:  # fmt: skip
    fit(model, ds, method=method, epochs=epochs or s["epochs"], batch_size=s["batch_size"], lr=lr or s["lr"],
        schedule="cosine", seed=seed, probe=False, device=ctx.device, quiet=ctx.quiet)  # fmt: skip
    return model.cpu().eval()


def softmax(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    model = build("softmax", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed, **_norm(ds))
    return _fit(model, ds, s, ctx, seed)


def mlp(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, widths=s["mlp_widths"],
                  seed=seed, **_norm(ds))  # fmt: skip
    return _fit(model, ds, s, ctx, seed)


def cnn(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int, epochs: int | None = None) -> Model:
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed, **_norm(ds))
    return _fit(model, ds, s, ctx, seed, epochs=epochs)


def maxout(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    model = build("maxout", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, units=s["maxout_units"],
                  pieces=s["maxout_pieces"], seed=seed, **_norm(ds))  # fmt: skip
    return _fit(model, ds, s, ctx, seed)


def rbf(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    model = build("rbf", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed)
    init_rbf_from_data(model, ds.x_train, ds.y_train, seed=seed)  # prototypes start at the class means
    return _fit(model, ds, s, ctx, seed, lr=s["lr_rbf"])


def cnn_pgd(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed, **_norm(ds))
    method = METHODS.create("pgd", eps=0.3, steps=s["pgd_steps"], stepsize=2.5 * 0.3 / s["pgd_steps"], stop_when_fooled=True)
    return _fit(model, ds, s, ctx, seed, method=method)


def ensemble(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model:
    members = [cnn(ds, s, ctx, seed + 100 + i, epochs=s["ensemble_epochs"]) for i in range(s["ensemble_members"])]
    return make_ensemble(members)


def abs_model(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, seed: int) -> Model | None:
    """A trained ABS model from ``--option abs_run=RUN`` (``advlab train abs --data mnist``), else None.

    ABS is trained by its own per-class VAE trainer and its inference costs about a second per image
    on one core, so this experiment does not train it and runs its row only when asked.
    """
    if "abs" not in MODEL_FAMILIES or not s.get("abs_run"):
        echo("rubbish-mnist: ABS row not run (pass --option abs_run=RUN, a run of `advlab train abs --data mnist`)", ctx.quiet)
        return None
    from advlab.runs import open_run

    return open_run(s["abs_run"]).load_model().eval()


#: name → (label, builder). Order = table order.
MODELS: dict[str, tuple[str, Callable[..., Model | None]]] = {
    "softmax": ("softmax regression", softmax),
    "mlp": ("MLP", mlp),
    "cnn-small": ("cnn-small", cnn),
    "maxout": ("maxout MLP", maxout),
    "rbf": ("shallow RBF (distance-aware)", rbf),
    "cnn-small-pgd": ("cnn-small, PGD-trained (ε = 0.3)", cnn_pgd),
    "ensemble": ("ensemble of cnn-small", ensemble),
    "abs": ("ABS (analysis by synthesis)", abs_model),
}


def train_models(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> dict[str, Trained]:
    """Every model of ``MODELS`` that can be built here, each saved as a run folder under ``<out>/models/<name>``."""
    out: dict[str, Trained] = {}
    for i, (name, (label, builder)) in enumerate(MODELS.items()):
        echo(f"rubbish-mnist: training {label}", ctx.quiet)
        t0 = time.perf_counter()
        model = builder(ds, s, ctx, ctx.seed + i)
        if model is None:
            continue
        seconds = time.perf_counter() - t0
        accuracy = float((model.predict(ds.x_test) == ds.y_test).float().mean())
        out[name] = Trained(model, label, seconds, accuracy)
        save_run(ctx.out_dir / "models" / name, model, {"name": "mnist", "limit_train": s["limit_train"],
                 "limit_test": s["limit_test"]}, None, experiment="rubbish-mnist", train_seconds=seconds)  # fmt: skip
    return out
