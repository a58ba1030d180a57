"""Save and load models as one ``.safetensors`` file: weights plus the spec in its metadata (no pickle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from advlab._io import atomic_path
from advlab.models.model import Model
from advlab.models.registry import build

SPEC_KEY = "advlab_spec"
FORMAT = "advlab-model/1"


def save(model: Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically; ``load(path)`` rebuilds it exactly."""
    if not isinstance(model, Model):
        raise TypeError(f"save: expected an advlab Model (see advlab.models.wrap), got {type(model).__name__}")
    if model.spec.get("family") in {"blackbox", "custom"}:
        raise ValueError(
            f"save: a {model.spec['family']!r} model has no zoo spec to rebuild it from; "
            "save its torch weights yourself or build it from the zoo"
        )
    state = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    spec = model.full_spec()
    spec.pop("dtype", None)  # the weights' actual dtype decides, not what the spec once said
    if model.dtype != torch.float32:
        # load() builds float32 nets; without this a float64 net would be silently rounded.
        spec["dtype"] = str(model.dtype).removeprefix("torch.")
    meta = {SPEC_KEY: json.dumps(spec), "format": FORMAT}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)
    return Path(path)


def read_spec(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"load: no model file at {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"load: {p} is not a readable .safetensors model file (truncated or corrupt?): {exc}") from exc
    if SPEC_KEY not in meta:
        raise ValueError(f"load: {p} is a safetensors file but not an advlab model (no {SPEC_KEY!r} metadata)")
    try:
        spec = json.loads(meta[SPEC_KEY])
    except json.JSONDecodeError as exc:
        raise ValueError(f"load: {p} has a corrupt model spec: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError(f"load: {p} has a corrupt model spec: expected a JSON object, got {type(spec).__name__}")
    return spec, tensors


def load(path: str | Path, map_location: str | torch.device = "cpu") -> Model:
    """Rebuild a model saved by ``save``."""
    spec, tensors = read_spec(path)
    missing = [k for k in ("family", "bounds", "classes", "input_shape") if k not in spec]
    if missing:
        raise ValueError(f"load: {path} has an incomplete spec (missing {missing})")
    try:
        model = build(
            spec["family"],
            input_shape=spec["input_shape"],
            classes=spec["classes"],
            bounds=tuple(spec["bounds"]),
            **spec.get("options", {}),
        )
        dtype = _dtype(spec.get("dtype", "float32"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"load: {path} has a spec this version cannot build: {exc}") from exc
    model.net.to(dtype)
    try:
        model.net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"load: weights in {path} do not match the spec's architecture: {exc}") from exc
    extra = {k: v for k, v in spec.items() if k not in {"family", "options", "bounds", "classes", "input_shape"}}
    model.spec.update(extra)
    return model.to(map_location)


def _dtype(name: Any) -> torch.dtype:
    dtypes = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if name not in dtypes:
        raise ValueError(f"unknown dtype {name!r}; expected one of {sorted(dtypes)}")
    return dtypes[name]
