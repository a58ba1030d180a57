"""A user's own network by reference: ``"package.module:make_net"`` or ``"path/to/file.py:make_net"``.

``advlab.save`` stores such a reference in a custom model's spec (never pickled code), and
``advlab.load`` and the CLI (``advlab attack my_net.py:make_net --weights w.pt --data mnist``)
call it to rebuild the network before loading its weights. Loading a reference runs that
module's code, exactly as ``import`` would: use references to code you trust.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn


def check_factory_ref(ref: Any) -> str:
    if not isinstance(ref, str) or ref.count(":") < 1 or not ref.rsplit(":", 1)[1] or not ref.rsplit(":", 1)[0]:
        raise ValueError(f"factory: expected 'module:function' or 'file.py:function', got {ref!r}")
    return ref


def default_factory(net: nn.Module) -> str | None:
    """``module:Class`` of ``net`` when that class can be rebuilt with no arguments, else None."""
    cls = type(net)
    if "<locals>" in cls.__qualname__ or cls.__module__.startswith("torch."):
        return None
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    if cls.__module__ == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        return f"{Path(main_file).resolve()}:{cls.__qualname__}" if main_file else None
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_factory(ref: str) -> Callable[..., Any]:
    """The callable named by ``ref``; a clear ``ValueError`` when the module or the name is missing."""
    module_name, attr = check_factory_ref(ref).rsplit(":", 1)
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        module = _import_file(Path(module_name))
    else:
        module = _import_module(module_name, ref)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"factory {ref!r}: {module_name} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"factory {ref!r}: {attr} is a {type(obj).__name__}, not a function or class")
    return obj


def _import_module(module_name: str, ref: str) -> Any:
    """Import ``module_name``; a module in the current folder counts too (as with ``python -m``),
    since the ``advlab`` console script does not put the current folder on ``sys.path``."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = str(Path.cwd())
        if cwd in sys.path or exc.name is None or not module_name.startswith(exc.name):
            raise ValueError(f"factory {ref!r}: cannot import {module_name!r} ({exc})") from exc
        sys.path.insert(0, cwd)
        try:
            return importlib.import_module(module_name)
        except ImportError as again:
            raise ValueError(f"factory {ref!r}: cannot import {module_name!r} ({again})") from again
        finally:
            sys.path.remove(cwd)
    except ImportError as exc:
        raise ValueError(f"factory {ref!r}: cannot import {module_name!r} ({exc})") from exc


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise ValueError(f"factory: no Python file at {path}")
    resolved = path.resolve()
    name = "advlab_user_" + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ValueError(f"factory: {path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ValueError(f"factory: importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def build_network(ref: str, options: dict[str, Any] | None = None) -> nn.Module:
    """Call the factory named by ``ref`` with ``options``; it must return a ``torch.nn.Module``."""
    fn = resolve_factory(ref)
    try:
        net = fn(**(options or {}))
    except TypeError as exc:
        raise ValueError(f"factory {ref!r}: calling it with {options or {}} failed: {exc}") from exc
    if not isinstance(net, nn.Module):
        raise ValueError(f"factory {ref!r}: returned a {type(net).__name__}, expected a torch.nn.Module")
    return net


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` file or a ``torch.save`` file (loaded with ``weights_only=True``)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"weights: no file at {p}")
    if p.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(p))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ValueError(f"weights: {p} is not a readable .safetensors file: {exc}") from exc
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch.load raises many kinds for a bad file
        raise ValueError(f"weights: {p} is not a readable torch state dict ({type(exc).__name__}: {exc})") from exc
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"weights: {p} does not hold a state dict (a dict of tensors)")
    return obj


def is_torchscript(path: str | Path) -> bool:
    """A TorchScript archive (``torch.jit.save``): a zip holding ``constants.pkl`` or ``code/``."""
    import zipfile

    p = Path(path)
    if not p.is_file() or not zipfile.is_zipfile(p):
        return False
    with zipfile.ZipFile(p) as z:
        names = z.namelist()
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def load_torchscript(path: str | Path) -> nn.Module:
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"torchscript: {path} could not be loaded ({type(exc).__name__}: {exc})") from exc
