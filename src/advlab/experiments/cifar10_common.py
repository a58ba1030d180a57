"""What the CIFAR-10 experiments share: the data check, the training recipes, and evaluation on the engine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from advlab.data.cifar import ARCHIVE
from advlab.data.errors import DatasetError
from advlab.data.paths import data_dir as resolve_data_dir
from advlab.experiments.registry import ExperimentContext

FETCH_HINT = (
    "CIFAR-10 is not in {folder}. Either run `advlab data fetch cifar10` (163 MB from the Toronto mirror, "
    "md5-checked), or copy the canonical cifar-10-python.tar.gz into that folder, or point --data-dir / "
    "$ADVLAB_DATA at a folder holding cifar10/cifar-10-python.tar.gz; then run this experiment again."
)


def load_cifar10(ctx: ExperimentContext, limit_train: int | None, limit_test: int | None) -> Any:
    """CIFAR-10 from the local archive (never downloaded here); a clear error saying what to do when absent."""
    from advlab import data

    folder = resolve_data_dir(ctx.data_dir) / "cifar10"
    if not (folder / ARCHIVE).is_file():
        raise DatasetError(FETCH_HINT.format(folder=folder))
    return data.load("cifar10", data_dir=ctx.data_dir, download=False, quiet=ctx.quiet, limit_train=limit_train,
                     limit_test=limit_test)  # fmt: skip


@dataclass(frozen=True)
class CifarRecipe:
    """A CIFAR training recipe as the paper ran it. Beyond ``experiments.recipes.Recipe`` it needs momentum,
    weight decay, mixed precision, crop+flip augmentation and per-epoch checkpoints a killed run resumes from
    (runs of hours on a GPU), so it trains through ``train_recipe`` below."""

    family: str
    method: str
    method_options: dict[str, Any]
    epochs: int
    lr: float
    schedule: str
    batch_size: int = 128
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    amp: bool = True  # on CUDA only; the CPU runs float32
    augment: bool = True
    model_options: dict[str, Any] = field(default_factory=dict)

    def scaled(self, **changes: Any) -> CifarRecipe:
        return replace(self, **changes)


EPS = 8 / 255
#: Wong, Rice & Kolter (2020), CIFAR-10: FGSM from U(−ε, ε), step 10/255, 15 epochs, cyclic lr to 0.2, SGD 0.9,
#: weight decay 5e-4, batch 128, mixed precision, random crop + flip, PreAct ResNet-18.
WONG_FAST = CifarRecipe("preact-resnet18", "fast", {"eps": EPS, "step": 10 / 255}, epochs=15, lr=0.2, schedule="cyclic")
#: Madry et al. (2018), CIFAR-10: PGD-7 of step 2/255 at ε = 8/255. They trained a wide ResNet for 80k iterations
#: (~205 epochs); here on PreAct ResNet-18 with the step schedule (lr 0.1, /10 at 50 % and 75 %).
MADRY_PGD = CifarRecipe("preact-resnet18", "pgd", {"eps": EPS, "steps": 7, "stepsize": 2 / 255}, epochs=200, lr=0.1,
                   schedule="step")  # fmt: skip
#: Standard training for the slices (the decision-region paper's WRN-28-10).
STANDARD_WRN = CifarRecipe("wrn-28-10", "standard", {}, epochs=200, lr=0.1, schedule="step")


def train_recipe(ctx: ExperimentContext, ds: Any, recipe: CifarRecipe, seed: int, label: str) -> tuple[Any, dict[str, Any]]:
    """Train ``recipe`` into ``ctx.out_dir/models/label`` (reusing a finished run of the same recipe, resuming a
    killed one from its last epoch)."""
    from dataclasses import asdict

    from advlab.device import resolve_device
    from advlab.models import build
    from advlab.runs import open_run, save_run
    from advlab.train import METHODS, fit
    from advlab.train.augment import Augmented

    folder = ctx.out_dir / "models" / label
    key = {**asdict(recipe), "seed": seed, "train_size": len(ds.x_train)}
    if (folder / "model.safetensors").is_file():
        run = open_run(folder)
        if run.info.get("recipe") == key:
            return run.load_model().eval(), {"path": str(folder), **run.info.get("timing", {}), "reused": True}
    dev = resolve_device(ctx.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build(recipe.family, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds,
                      **recipe.model_options)  # fmt: skip
    method = METHODS.create(recipe.method, **recipe.method_options)
    if recipe.augment:
        method = Augmented(method, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    history = fit(model, ds, method=method, epochs=recipe.epochs, batch_size=recipe.batch_size, optimizer=recipe.optimizer,
                  lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay, schedule=recipe.schedule,
                  seed=seed, device=dev, checkpoint_dir=folder, resume=True, quiet=ctx.quiet,
                  amp=recipe.amp and dev.type == "cuda")  # fmt: skip
    timing = {"train_seconds": time.perf_counter() - t0, "train_cpu_seconds": time.process_time() - c0, "device": str(dev)}
    data_spec = {"name": "cifar10", "limit_train": len(ds.x_train), "limit_test": len(ds.x_test)}
    save_run(folder, model.cpu(), data_spec, history.to_json(), recipe=key, timing=timing)
    return model.eval(), {"path": str(folder), **timing, "history": history.to_json()["epochs"], "reused": False}


def evaluate_on_engine(ctx: ExperimentContext, runs: dict[str, str], attacks: list[Any], eps: float, n: int) -> dict[str, Any]:
    """Robust accuracy (worst case over ``attacks``) of each run, as engine shards (``--option engine=ray``)."""
    from advlab.engine import evaluation_shards, make_executor, run_shards, summarize

    engine = make_executor(ctx.options.get("engine", "local"), address=ctx.options.get("address"),
                           workers=ctx.options.get("workers"))  # fmt: skip
    shards = evaluation_shards(list(runs.values()), attacks, [eps], n, shard_size=int(ctx.options.get("shard_size", 100)),
                               seed=ctx.seed, data_dir=ctx.data_dir)  # fmt: skip
    t0 = time.perf_counter()
    done = run_shards(shards, Path(ctx.out_dir) / "evaluation", engine=engine, device=ctx.device, quiet=ctx.quiet,
                      description="evaluate")  # fmt: skip
    rows = {r["model"]: r for r in summarize(done.shards, done.results)}
    seconds = time.perf_counter() - t0
    return {name: {**rows[path], "engine": engine.name, "shards": len(shards), "seconds": seconds} for name, path in runs.items()}
