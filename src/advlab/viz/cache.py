"""Disk cache for computed pictures: NumPy ``.npz`` files (no pickle) named by a content hash.

The key hashes the model (weights, buffers, architecture and spec) together with
everything that defines the picture, so a hit is always the same arrays the model
would produce; a changed weight or option is a miss. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advlab._io import atomic_path

CACHE_ENV = "ADVLAB_CACHE"
KEY_VERSION = "advlab-slice-cache/1"


def default_cache_dir() -> Path:
    """``$ADVLAB_CACHE/slices`` if set, else ``$XDG_CACHE_HOME/advlab/slices`` (``~/.cache/advlab/slices``)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "slices"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "advlab" / "slices"


def resolve_cache_dir(cache: bool | str | Path | None) -> Path | None:
    """``None``/``False`` → no cache, ``True`` → the default folder, a path → that folder."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    if isinstance(cache, (str, os.PathLike)):
        return Path(cache).expanduser()
    raise TypeError(f"cache: expected None, True or a folder path, got {type(cache).__name__}")


def model_fingerprint(model: Any) -> str:
    """SHA-256 of a model's spec, architecture and every weight and buffer (bit-exact)."""
    if getattr(model, "spec", {}).get("family") == "blackbox":
        raise ValueError("cache: a black-box model (a Python function) has no weights to hash; call with cache=None")
    h = hashlib.sha256()
    spec = model.full_spec() if hasattr(model, "full_spec") else {}
    h.update(json.dumps(spec, sort_keys=True, default=str).encode())
    h.update(repr(model.net if hasattr(model, "net") else model).encode())
    for name, tensor in model.state_dict().items():
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    """Arrays become their shape plus a hash of their float64 bytes; the rest stays JSON."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value, dtype=np.float64)
        return {"shape": list(arr.shape), "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def cache_key(model: Any, **parts: Any) -> str:
    """Hex key for ``model`` and the picture's defining ``parts`` (arrays, numbers, strings)."""
    payload = {"version": KEY_VERSION, "model": model_fingerprint(model), "parts": _jsonable(parts)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def load_arrays(path: str | Path) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path``, or ``None`` when it is missing or unreadable (then recompute)."""
    p = Path(path)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` as one compressed ``.npz`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwds
    return Path(path)
