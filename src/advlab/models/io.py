"""Save and load models as one ``.safetensors`` file: weights plus the spec in its metadata (no pickle)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from advlab._io import atomic_path
from advlab.models.factory import resolve_factory
from advlab.models.model import Model
from advlab.models.registry import family

MODEL_FILE = "model.safetensors"

SPEC_KEY = "advlab_spec"
FORMAT = "advlab-model/1"


def save(model: Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically; ``load(path)`` rebuilds it exactly.

    A zoo model is rebuilt from its family; a wrapped custom network from the factory reference in
    its spec (see ``advlab.models.wrap(..., factory=…)``).
    """
    if not isinstance(model, Model):
        raise TypeError(f"save: expected an advlab Model (see advlab.models.wrap), got {type(model).__name__}")
    family = model.spec.get("family")
    if family == "blackbox" or (family == "custom" and "factory" not in model.spec):
        raise ValueError(
            f"save: this {family!r} model has no recipe to rebuild it: wrap the network with "
            "factory='module:function' (or 'file.py:function'), or save its torch weights yourself"
        )
    if family == "custom":
        json.dumps(model.spec.get("options", {}))  # TypeError now, not a spec load() cannot read
    state = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    spec = model.full_spec()
    spec.pop("dtype", None)  # the weights' actual dtype decides, not what the spec once said
    if model.output != "logits":
        spec["output"] = model.output
    if model.dtype != torch.float32:
        # load() builds float32 nets; without this a float64 net would be silently rounded.
        spec["dtype"] = str(model.dtype).removeprefix("torch.")
    meta = {SPEC_KEY: json.dumps(spec), "format": FORMAT}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)
    return Path(path)


def _model_file(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir() and (p / MODEL_FILE).is_file():
        return p / MODEL_FILE  # a run folder: its model
    if not p.is_file():
        raise ValueError(f"load: no model file at {p}")
    return p


def read_header(path: str | Path) -> tuple[dict[str, Any], dict[str, tuple[tuple[int, ...], str]]]:
    """The spec and each tensor's (shape, dtype) from the file header, without reading any weights."""
    p = _model_file(path)
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            header = {k: (tuple(f.get_slice(k).get_shape()), str(f.get_slice(k).get_dtype())) for k in f.keys()}
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
    return spec, header


def read_spec(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    p = _model_file(path)
    spec, _ = read_header(p)
    try:
        with safe_open(str(p), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"load: {p} is not a readable .safetensors model file (truncated or corrupt?): {exc}") from exc
    return spec, tensors


def load(path: str | Path, map_location: str | torch.device = "cpu", *, factory: Any = None) -> Model:
    """Rebuild a model saved by ``save`` (a ``.safetensors`` file, or a run folder holding ``model.safetensors``).

    The spec is checked against the weight shapes and dtypes in the file header before any layer is
    built, so a tampered spec cannot force a huge allocation. ``factory`` (a callable or a reference)
    overrides the factory a custom model's spec names.
    """
    p = _model_file(path)
    spec, header = read_header(p)
    check_spec(spec, p)
    dtype = _spec_dtype(spec, p)
    net_factory = _net_factory(spec, p, factory)
    check_header(net_factory, header, p)
    try:
        net = net_factory()
        model = Model(net, bounds=tuple(spec["bounds"]), classes=spec["classes"], input_shape=spec["input_shape"],
                      spec={"family": spec["family"], "options": spec.get("options", {})},
                      output=spec.get("output", "logits"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"load: {p} has a spec this version cannot build: {exc}") from exc
    _, tensors = read_spec(p)
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"load: {p} holds NaN or inf weights in {bad[:3]}; the file is corrupt or the training diverged")
    model.net.to(dtype)
    try:
        model.net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"load: weights in {p} do not match the spec's architecture: {exc}") from exc
    extra = {k: v for k, v in spec.items() if k not in {"family", "options", "bounds", "classes", "input_shape", "output"}}
    model.spec.update(extra)
    _probe(model, p)
    return model.to(map_location)


def check_spec(spec: dict[str, Any], p: Path) -> None:
    missing = [k for k in ("family", "bounds", "classes", "input_shape") if k not in spec]
    if missing:
        raise ValueError(f"load: {p} has an incomplete spec (missing {missing})")
    shape, classes = spec["input_shape"], spec["classes"]
    if not isinstance(shape, list) or not shape or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s <= 1 << 20 for s in shape):
        raise ValueError(f"load: {p} has an invalid input_shape {shape!r} (expected a list of positive integers)")
    if not isinstance(classes, list) or not 2 <= len(classes) <= 1 << 20:
        raise ValueError(f"load: {p} has an invalid class list (expected 2 or more class names)")
    if not isinstance(spec.get("options", {}), dict):
        raise ValueError(f"load: {p} has invalid model options {spec.get('options')!r} (expected a JSON object)")


def _net_factory(spec: dict[str, Any], p: Path, override: Any) -> Callable[[], nn.Module]:
    options = spec.get("options", {})
    if spec["family"] == "custom":
        ref = override if override is not None else spec.get("factory")
        if ref is None:
            raise ValueError(f"load: {p} holds a custom network with no factory; pass load(..., factory=make_net)")
        fn = ref if callable(ref) else resolve_factory(str(ref))

        def custom() -> nn.Module:
            net = fn(**options)
            if not isinstance(net, nn.Module):
                raise ValueError(f"factory returned a {type(net).__name__}, expected a torch.nn.Module")
            return net

        return custom
    try:
        fam = family(spec["family"])
    except ValueError as exc:
        raise ValueError(f"load: {p} has a spec this version cannot build: {exc}") from exc
    shape, n = tuple(spec["input_shape"]), len(spec["classes"])
    return lambda: fam.builder(input_shape=shape, num_classes=n, **options)


def check_header(net_factory: Callable[[], nn.Module], header: dict[str, tuple[tuple[int, ...], str]], p: Path) -> None:
    """Build the network on the meta device (no memory) and compare its weights with the file header."""
    try:
        with torch.device("meta"):
            net = net_factory()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"load: {p} has a spec this version cannot build: {exc}") from exc
    except Exception:  # noqa: BLE001 - a (custom) builder that cannot run on meta tensors: checked after building
        return
    expected = {k: (tuple(v.shape), v.is_floating_point()) for k, v in net.state_dict().items()}
    if set(expected) != set(header):
        extra, missing = sorted(set(header) - set(expected)), sorted(set(expected) - set(header))
        raise ValueError(f"load: weights in {p} do not match the spec's architecture (unexpected {extra[:3]}, missing {missing[:3]})")
    for k, (shape, is_float) in expected.items():
        got_shape, got_dtype = header[k]
        if got_shape != shape:
            raise ValueError(
                f"load: weights in {p} do not match the spec (input shape, classes or options): {k} has shape "
                f"{list(got_shape)} in the file, the spec builds {list(shape)}"
            )
        if is_float != got_dtype.startswith(("F", "BF")):
            raise ValueError(f"load: {p}: {k} is stored as {got_dtype}; expected {'floating-point' if is_float else 'integer'} values")


def _probe(model: Model, p: Path) -> None:
    x = model.bounds.center(model.input_shape)[None].to(model.dtype)
    was_training = model.training
    try:
        with torch.no_grad():
            out = model.eval()(x)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"load: the network in {p} fails on an input of its spec's shape {list(model.input_shape)}: {exc}") from exc
    finally:
        model.train(was_training)
    if out.shape != (1, model.num_classes):
        raise ValueError(f"load: the network in {p} returns {tuple(out.shape)} for one input; its spec names {model.num_classes} classes")


def _spec_dtype(spec: dict[str, Any], p: Path) -> torch.dtype:
    try:
        return _dtype(spec.get("dtype", "float32"))
    except ValueError as exc:
        raise ValueError(f"load: {p} has a spec this version cannot build: {exc}") from exc


def _dtype(name: Any) -> torch.dtype:
    dtypes = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if name not in dtypes:
        raise ValueError(f"unknown dtype {name!r}; expected one of {sorted(dtypes)}")
    return dtypes[name]
