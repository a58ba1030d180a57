"""Per-epoch training checkpoints in one ``.safetensors`` file (weights, optimizer, RNG; no pickle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from advlab._io import atomic_path

CHECKPOINT_NAME = "checkpoint.safetensors"


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            name = f"optim.{idx}.{key}"
            if isinstance(value, torch.Tensor):
                tensors[name] = value.detach().cpu().contiguous()
            else:
                scalars[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in list(tensors.items()) + list(meta["scalars"].items()):
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, epoch: int, info: dict[str, Any],
    extra: dict[str, torch.Tensor] | None = None,
) -> None:
    """``extra``: more named tensors (e.g. the training generator's state, the best weights), returned by
    ``load_checkpoint`` under the same names."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt_tensors, opt_meta = _flatten_optimizer(optimizer.state_dict())
    tensors.update(opt_tensors)
    tensors["rng.cpu"] = torch.get_rng_state()
    for k, v in (extra or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    meta = {"epoch": epoch, "optimizer": opt_meta, **info}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"advlab_checkpoint": json.dumps(meta)})


def load_checkpoint(
    path: Path,
) -> tuple[dict[str, torch.Tensor], dict[str, Any], torch.Tensor, dict[str, Any], dict[str, torch.Tensor]]:
    """Return (model state, optimizer state, cpu RNG state, metadata, extra tensors); ValueError if unreadable."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta_raw = (f.metadata() or {}).get("advlab_checkpoint")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"resume: checkpoint {path} is unreadable (truncated or corrupt?): {exc}") from exc
    if meta_raw is None:
        raise ValueError(f"resume: {path} is not an advlab training checkpoint (no 'advlab_checkpoint' metadata)")
    try:
        meta = json.loads(meta_raw)
        model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
        opt_tensors = {k: v for k, v in tensors.items() if k.startswith("optim.")}
        optimizer = _unflatten_optimizer(opt_tensors, meta["optimizer"])
        rng = tensors["rng.cpu"]
        extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
        epoch = meta["epoch"]
        meta["history"]["epochs"]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"resume: checkpoint {path} is incomplete or corrupt ({type(exc).__name__}: {exc})") from exc
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ValueError(f"resume: checkpoint {path} records epoch {epoch!r}; expected a whole number ≥ 0 (corrupt file?)")
    return model_state, optimizer, rng, meta, extra
