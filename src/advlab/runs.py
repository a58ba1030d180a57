"""Run folders: what ``advlab train`` writes and what ``attack``/``slice``/… read back.

A run folder holds ``model.safetensors`` (weights + spec), ``run.json`` (which
data the model was trained on, so later commands load the same test set) and
``history.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advlab import data as data_mod
from advlab._io import write_json
from advlab.data.dataset import Dataset
from advlab.models.io import load as load_model_file
from advlab.models.io import save as save_model_file
from advlab.models.model import Model

MODEL_FILE = "model.safetensors"
RUN_FILE = "run.json"
HISTORY_FILE = "history.json"


@dataclass
class Run:
    path: Path
    info: dict[str, Any]
    model_file: str = MODEL_FILE
    #: builds the model instead of reading ``model_file`` (a user's own network, see ``advlab.cli.model_source``)
    loader: Callable[[], Model] | None = None

    @property
    def model_path(self) -> Path:
        return self.path / self.model_file

    def load_model(self) -> Model:
        return self.loader() if self.loader is not None else load_model_file(self.model_path)

    def load_data(self, data_dir: str | Path | None = None, quiet: bool = True, **overrides: Any) -> Dataset:
        spec = dict(self.info.get("data", {}))
        if "name" not in spec:
            raise ValueError(f"run {self.path}: run.json does not say which dataset the model was trained on")
        name = spec.pop("name")
        spec.update(overrides)
        return data_mod.load(name, data_dir=data_dir, quiet=quiet, **spec)


def save_run(out: str | Path, model: Model, data_spec: dict[str, Any], history: dict[str, Any] | None = None, **extra: Any) -> Run:
    """Write ``model.safetensors``, ``run.json`` (``data_spec``: ``data.load`` arguments incl. ``name``) and
    ``history.json`` into ``out``, each atomically."""
    if "name" not in data_spec:
        raise ValueError(f"save_run: data_spec must name the dataset (a 'name' key), got {data_spec!r}")
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    save_model_file(model, path / MODEL_FILE)
    info = {"model": model.spec.get("family"), "data": data_spec, **extra}
    write_json(path / RUN_FILE, info)
    if history is not None:
        write_json(path / HISTORY_FILE, history)
    return Run(path, info)


def open_run(path: str | Path) -> Run:
    """A run folder, or a bare ``.safetensors`` model file (then no dataset is known)."""
    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        info_file = p.parent / RUN_FILE
        info = _read_info(info_file) if p.name == MODEL_FILE and info_file.is_file() else {}
        return Run(p.parent, info, p.name)
    if not (p / MODEL_FILE).is_file():
        raise ValueError(f"{p} is not a run folder (no {MODEL_FILE}); train one with `advlab train MODEL --data NAME --out {p}`")
    info = _read_info(p / RUN_FILE) if (p / RUN_FILE).is_file() else {}
    return Run(p, info)


def _read_info(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"run: {path} is unreadable or not JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise ValueError(f"run: {path} should hold a JSON object, got {type(info).__name__}")
    return info
