"""One train-or-load cache for every experiment: ``trained_model(recipe, ds, cache_dir)``.

A ``Recipe`` is everything that decides a trained model (family and options,
training method and options, optimiser settings, epochs, seed). The cache key is
the recipe plus a fingerprint of the training data (name, sizes, classes and a
hash of the arrays), so a model trained on other data, or with any other
setting, is never reused. A cached model is written as a run folder
(``model.safetensors`` + ``run.json`` + ``history.json``) into a temporary folder
that is renamed into place only when complete: a killed run leaves no half-written
entry behind, and stale temporaries are removed on the next call.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advlab.data.dataset import Dataset
from advlab.models import Model, build
from advlab.runs import open_run, save_run
from advlab.train import METHODS, fit
from advlab.train.fit import Callback

_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Recipe:
    """How to train one model. ``label`` names its cache folder (the key makes it unique)."""

    family: str
    epochs: int
    seed: int = 0
    model_options: Mapping[str, Any] = field(default_factory=dict)
    method: str = "standard"
    method_options: Mapping[str, Any] = field(default_factory=dict)
    lr: float = 1e-3
    batch_size: int = 128
    optimizer: str = "adam"
    schedule: str | None = None
    #: the per-epoch robustness probe (robust methods only): on by default in ``fit``; off here so a
    #: recipe trains exactly the epochs it names unless it asks for the probe.
    probe: bool = False
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["model_options"] = dict(self.model_options)
        out["method_options"] = dict(self.method_options)
        return out

    def key(self, ds: Dataset) -> str:
        """A hash of the recipe (label excluded) and the training data's fingerprint."""
        recipe = {k: v for k, v in self.to_json().items() if k != "label"}
        blob = json.dumps({"recipe": recipe, "data": data_fingerprint(ds)}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def folder_name(self, ds: Dataset) -> str:
        label = self.label or f"{self.family}-{self.method}-seed{self.seed}"
        return f"{label}-{self.key(ds)}"


def data_fingerprint(ds: Dataset) -> dict[str, Any]:
    """Name, sizes, classes and a SHA-256 of the training arrays (subsets and limits change it)."""
    h = hashlib.sha256()
    for t in (ds.x_train, ds.y_train):
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return {"name": ds.name, "train": len(ds.x_train), "classes": list(ds.class_names), "sha256": h.hexdigest()}


def trained_model(
    recipe: Recipe,
    ds: Dataset,
    cache_dir: str | Path,
    *,
    device: str | None = None,
    quiet: bool = True,
    callbacks: Sequence[Callback] = (),
) -> Model:
    """The model ``recipe`` trains on ``ds``: loaded from ``cache_dir`` when trained before, else trained and cached."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"trained_model: expected a Recipe, got {type(recipe).__name__}")
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(cache)
    key = recipe.key(ds)
    folder = cache / recipe.folder_name(ds)
    if folder.is_dir():
        run = open_run(folder)
        if run.info.get("recipe_key") == key:
            return run.load_model().eval()
        shutil.rmtree(folder)  # same name, other recipe or data: an old entry, replaced below
    model = build(recipe.family, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=recipe.seed,
                  **dict(recipe.model_options))
    method = METHODS.create(recipe.method, **dict(recipe.method_options))
    history = fit(model, ds, method=method, epochs=recipe.epochs, batch_size=recipe.batch_size, optimizer=recipe.optimizer,
                  lr=recipe.lr, schedule=recipe.schedule, seed=recipe.seed, probe=recipe.probe, device=device,
                  callbacks=callbacks, quiet=quiet)
    tmp = cache / f"{_TMP_PREFIX}{folder.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    save_run(tmp, model.cpu(), {"name": ds.name}, history.to_json(), recipe=recipe.to_json(), recipe_key=key,
             data_fingerprint=data_fingerprint(ds))
    os.replace(tmp, folder)
    return model.eval()


def _remove_stale_temporaries(cache: Path) -> None:
    for entry in cache.glob(f"{_TMP_PREFIX}*"):
        pid = entry.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another process is writing it right now
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
