"""What a CLI command may take as its model: a run folder, a model file, a TorchScript file, or a
user's own network as ``module.py:factory`` (with ``--weights``), the last two with ``--data NAME``.

    advlab attack runs/cnn-small-mnist --attack pgd --eps 0.3
    advlab attack my_net.py:make_net --weights my_net.pt --data mnist --attack pgd --eps 0.3
    advlab slice my_net.ts --data mnist --index 3

The options are stored on the click context (``expose_value=False``), so every command that
opens its model with ``open_model`` accepts them without a parameter of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advlab.cli.options import stacked

_WEIGHTS, _DATA = "advlab.model_weights", "advlab.model_data"


def _store(key: str) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None:
            ctx.meta[key] = value
        return value

    return callback


weights_option = click.option(
    "--weights", default=None, expose_value=False, callback=_store(_WEIGHTS), type=click.Path(dir_okay=False),
    help="Weights for a MODULE.py:FACTORY model (.safetensors, or a torch.save'd state dict).",
)
data_option = click.option(
    "--data", default=None, expose_value=False, callback=_store(_DATA),
    help="Dataset of a TorchScript or MODULE.py:FACTORY model (its inputs, bounds and classes).",
)
#: --weights and --data, for commands whose model may be a user's own network.
model_source_options = stacked(weights_option, data_option)


class ModelSource(click.ParamType):
    """A run folder, a .safetensors model, a TorchScript file or MODULE.py:FACTORY (checked when opened)."""

    name = "model"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text:
            self.fail("expected a run folder, a model file or MODULE.py:FACTORY, got ''", param, ctx)
        if not Path(text).exists() and ":" not in text:
            self.fail(f"{text!r} does not exist (expected a run folder, a model file or MODULE.py:FACTORY)", param, ctx)
        return text


MODEL_SOURCE = ModelSource()


def open_model(source: str, *, among_others: bool = False) -> Any:
    """A ``Run`` for ``source``: run folders and model files as ``open_run``; TorchScript files and
    ``module.py:factory`` references as a custom model on the dataset named by ``--data``.
    ``among_others``: one of several models (transfer), where ``--weights`` belongs to the factory ones."""
    from advlab.models.factory import is_torchscript
    from advlab.runs import open_run

    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    weights, data = meta.get(_WEIGHTS), meta.get(_DATA)
    path = Path(source)
    if path.exists() and not is_torchscript(path):
        if weights is not None and not among_others:
            raise ValueError(f"--weights is for a MODULE.py:FACTORY model; {source} already holds its weights")
        run = open_run(path)
        if data is not None:
            known = run.info.get("data", {}).get("name")
            if known is not None and known != data:
                raise ValueError(f"--data {data}: the run {source} was trained on {known}; leave --data out")
            if known is None:
                run.info = {**run.info, "data": {"name": data}}
        return run
    if data is None:
        raise ValueError(f"{source}: a TorchScript or MODULE.py:FACTORY model needs --data NAME (its dataset: inputs, bounds, classes)")
    if path.exists():
        return _custom_run(path.with_suffix(""), data, lambda: _torchscript(path), source)
    module, _, attr = source.rpartition(":")
    if not module or not attr:
        raise ValueError(f"{source!r}: expected MODULE.py:FACTORY (e.g. my_net.py:make_net)")
    folder = Path(module).with_suffix("") if module.endswith(".py") else Path("runs") / module.replace(".", "-")
    return _custom_run(folder.parent / f"{folder.name}-{attr}", data, lambda: _factory(source, weights), source)


def _custom_run(folder: Path, data: str, make_net: Any, source: str) -> Any:
    from advlab import data as data_mod
    from advlab.models.wrap import wrap
    from advlab.runs import Run

    info = data_mod.info(data)  # unknown names fail here, before any network is built

    def load() -> Any:
        from advlab.bounds import Bounds

        ds_bounds = _bounds_of(info.name)
        model = wrap(make_net(), bounds=Bounds.of(ds_bounds), classes=list(info.classes), input_shape=info.input_shape,
                     factory=source if ":" in source and not Path(source).exists() else None)
        return model

    return Run(folder, {"data": {"name": info.name}, "model": source}, loader=load)


def _bounds_of(name: str) -> Any:
    from advlab import data as data_mod

    # the bounds are a property of the dataset; embedded sets are cheap, downloaded ones are [0, 1] images
    if data_mod.info(name).kind == "downloaded":
        return (0.0, 1.0)
    ds = data_mod.load(name, quiet=True)
    return (ds.bounds.lower, ds.bounds.upper)


def _torchscript(path: Path) -> Any:
    from advlab.models.factory import load_torchscript

    return load_torchscript(path)


def _factory(source: str, weights: str | None) -> Any:
    from advlab.models.factory import build_network, read_weights

    net = build_network(source)
    if weights is not None:
        state = read_weights(weights)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise ValueError(f"--weights {weights} do not fit the network from {source}: {first} ({_mismatch(net, state)})") from exc
    return net


def _mismatch(net: Any, state: dict[str, Any]) -> str:
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    missing, extra = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
    shapes = [f"{k}: {list(theirs[k])} vs {list(ours[k])}" for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]]
    return "; ".join(filter(None, [f"missing {missing[:3]}" if missing else "", f"unexpected {extra[:3]}" if extra else "",
                                   f"shapes {shapes[:3]}" if shapes else ""]))
