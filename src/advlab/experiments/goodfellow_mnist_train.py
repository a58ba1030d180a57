"""The models of goodfellow-mnist: what each is, how it is trained, where its checkpoint goes.

One ``Recipe`` per row of the paper's MNIST results: a family, a training
method and the optimiser settings shared by all rows (so that rows differ
only in what the paper varies). Every trained model is saved as a run folder
(``advlab.runs.save_run``) under ``<out>/models/<name>/`` for later pictures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from advlab.data.dataset import Dataset
from advlab.experiments.goodfellow_linear import linear_model
from advlab.experiments.goodfellow_mnist_eval import attack_view
from advlab.experiments.registry import ExperimentContext
from advlab.models import Model, build, init_rbf_from_data, make_ensemble
from advlab.progress import echo
from advlab.runs import save_run
from advlab.train import METHODS, History, fit


@dataclass(frozen=True)
class Recipe:
    """One trained model: ``name`` is its key and run-folder name, ``label`` what tables and figures show."""

    name: str
    label: str
    family: str
    method: str | None = None
    method_options: dict[str, Any] = field(default_factory=dict)
    #: False: train on x + η without clipping to [0, 1], as the paper's formulas read (see ``attack_view``).
    clip_perturbation: bool = True


def recipes(s: dict[str, Any]) -> list[Recipe]:
    """The single models, in table order (the ensemble's members are trained separately)."""
    eps = s["eps"]
    out = [
        Recipe("softmax", "softmax regression", "softmax"),
        Recipe("maxout", "maxout", "maxout"),
        Recipe("maxout-fgsm-unclipped", "maxout, FGSM-trained (α=0.5), unclipped as the paper", "maxout", "fgsm",
               {"eps": eps, "alpha": 0.5}, clip_perturbation=False),
        Recipe("maxout-fgsm", "maxout, FGSM-trained (α=0.5), clipped to [0, 1]", "maxout", "fgsm", {"eps": eps, "alpha": 0.5}),
        # §6: the paper also perturbed hidden layers and found the input better; here the last hidden layer.
        Recipe("maxout-fgsm-hidden", "maxout, FGSM-trained (α=0.5) on the last hidden layer", "maxout", "fgsm",
               {"eps": eps, "alpha": 0.5, "layer": "features"}),
        Recipe("maxout-noise-sign", "maxout, ±ε sign-noise trained", "maxout", "noise-sign", {"eps": eps, "alpha": 0.5},
               clip_perturbation=False),
        Recipe("maxout-noise-uniform", "maxout, U(−ε, ε) noise trained", "maxout", "noise-uniform", {"eps": eps, "alpha": 0.5},
               clip_perturbation=False),
    ]
    out += [Recipe(f"maxout-l1-{c:g}", f"maxout, L1 {c:g} on layer 1", "maxout", "l1", {"coeff": c}) for c in s["l1_coeffs"]]
    out += [Recipe("maxout-mixup", "maxout, mixup (not in the paper)", "maxout", "mixup", {"alpha": 1.0})]
    out += [Recipe("rbf", "shallow RBF", "rbf")]
    return out


def _build(recipe: Recipe, ds: Dataset, s: dict[str, Any]) -> Model:
    shape, names, bounds = ds.input_shape, ds.class_names, ds.bounds
    if recipe.family == "softmax":
        return linear_model(shape, names, bounds)
    if recipe.family == "maxout":
        return build("maxout", input_shape=shape, classes=names, bounds=bounds, units=s["units"], pieces=s["pieces"])
    if recipe.family == "rbf":
        model = build("rbf", input_shape=shape, classes=names, bounds=bounds)
        # Prototypes start at the class means: a random start in 784-D trains far more slowly.
        return init_rbf_from_data(model, ds.x_train, ds.y_train, seed=0)
    raise ValueError(f"goodfellow-mnist: no recipe for family {recipe.family!r}")


@dataclass
class Trained:
    model: Model
    history: History
    seconds: float


def train_one(recipe: Recipe, ds: Dataset, s: dict[str, Any], ctx: ExperimentContext, *, seed: int,
              epochs: int | None = None) -> Trained:
    with torch.random.fork_rng(devices=[]):  # the initial weights, without touching the caller's RNG
        torch.manual_seed(seed)
        model = _build(recipe, ds, s)
    method = METHODS.create(recipe.method, **recipe.method_options) if recipe.method else None
    lr = s["lr_rbf"] if recipe.family == "rbf" else s["lr"]
    # Unclipped: the same net trained under bounds widened by ε, so the method's clip into the bounds never bites.
    target = model if recipe.clip_perturbation else attack_view(model, "unclipped", s["eps"])
    t0 = time.perf_counter()
    history = fit(target, ds, method=method, epochs=epochs or s["epochs"], batch_size=s["batch_size"], optimizer="adam",
                  lr=lr, schedule="cosine", seed=seed, probe=False, device=ctx.device, quiet=ctx.quiet)
    if target is not model:
        model.spec["training"] = {**target.spec["training"], "perturbation_clipped": False}
    model.cpu().eval()
    return Trained(model, history, time.perf_counter() - t0)


def data_spec(s: dict[str, Any]) -> dict[str, Any]:
    """``data.load`` arguments that give back the data these models were trained and tested on."""
    return {"name": "mnist", "limit_train": s["limit_train"], "limit_test": s["limit_test"]}


def save_model(out: Path, name: str, trained: Trained, s: dict[str, Any], **extra: Any) -> Path:
    path = out / "models" / name
    save_run(path, trained.model, data_spec(s), trained.history.to_json(), experiment="goodfellow-mnist",
             train_seconds=trained.seconds, **extra)
    return path


def train_all(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> dict[str, Trained]:
    """Every single model of ``recipes``, each saved as it finishes (seeds differ per model)."""
    out: dict[str, Trained] = {}
    for i, recipe in enumerate(recipes(s)):
        echo(f"goodfellow-mnist: training {recipe.label}", ctx.quiet)
        out[recipe.name] = train_one(recipe, ds, s, ctx, seed=ctx.seed + i)
        save_model(ctx.out_dir, recipe.name, out[recipe.name], s)
    return out


def train_ensemble(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> tuple[Model, float]:
    """``ensemble_members`` maxout nets (own seeds, ``ensemble_epochs`` each), averaged in probability."""
    recipe = Recipe("maxout", "maxout", "maxout")
    members, seconds = [], 0.0
    for i in range(s["ensemble_members"]):
        echo(f"goodfellow-mnist: ensemble member {i + 1}/{s['ensemble_members']}", ctx.quiet)
        trained = train_one(recipe, ds, s, ctx, seed=ctx.seed + 1000 + i, epochs=s["ensemble_epochs"])
        members.append(trained.model)
        seconds += trained.seconds
    ensemble = make_ensemble(members)
    save_run(ctx.out_dir / "models" / "ensemble", ensemble, data_spec(s), None, experiment="goodfellow-mnist",
             train_seconds=seconds, members=len(members), member_epochs=s["ensemble_epochs"])
    return ensemble, seconds
