"""``advlab train MODEL --data NAME --out runs/NAME``."""

from __future__ import annotations

from typing import Any

import click

from advlab.cli.options import parse_list, parse_options, run_options


def _int_or_str(v: str) -> int | str:
    return int(v) if v.lstrip("-").isdigit() else v


@click.command("train")
@click.argument("model_name", metavar="MODEL")
@click.option("--data", "data_name", required=True, help="Dataset name (see `advlab data list`).")
@click.option("--classes", default=None, help="Class subset, e.g. 0,1,2,3.")
@click.option("--features", default=None, help="Tabular feature subset, e.g. 'petal length,petal width'.")
@click.option("--limit-train", type=int, default=None, help="Use only the first N training inputs.")
@click.option("--epochs", type=int, default=5, show_default=True)
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=None, help="Learning rate [default: 1e-3; abs: 3e-3].")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--schedule", type=click.Choice(["constant", "cosine", "step", "cyclic"]), default=None, help="Learning-rate schedule (default: the method's, else constant).")
@click.option("--method", default="standard", show_default=True, help="Training method (see advlab.train.method_names()).")
@click.option("--eps", type=float, default=None, help="Perturbation size for robust training methods.")
@click.option("--method-option", "method_options", multiple=True, metavar="KEY=VALUE", help="Extra training-method option.")
@click.option("--option", "model_options", multiple=True, metavar="KEY=VALUE", help="Model option, e.g. widths=[100,2].")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: runs/MODEL-DATA).")
@click.option("--resume", is_flag=True, help="Continue from the run folder's last checkpoint.")
@run_options
def train(model_name: str, data_name: str, classes: str | None, features: str | None, limit_train: int | None,
          epochs: int, batch_size: int, lr: float | None, optimizer: str, schedule: str | None, method: str,
          eps: float | None, method_options: tuple[str, ...], model_options: tuple[str, ...], out: str | None,
          resume: bool, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Train a zoo MODEL on a dataset; writes model.safetensors, run.json and history.json."""
    import torch

    from advlab import data as data_mod
    from advlab.models import build, family
    from advlab.runs import save_run
    from advlab.train import fit, make_method

    family(model_name)  # fail on an unknown model before loading (maybe downloading) the data
    model_opts = parse_options(model_options)
    training = make_method(method, eps=eps, **parse_options(method_options))
    data_spec: dict[str, Any] = {"name": data_name}
    if classes:
        data_spec["classes"] = parse_list(classes, _int_or_str)
    if features:
        data_spec["features"] = parse_list(features, _int_or_str)
    if limit_train:
        data_spec["limit_train"] = limit_train
    ds = data_mod.load(data_dir=data_dir, quiet=quiet, **data_spec)
    torch.manual_seed(seed)
    model = build(model_name, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, **model_opts)
    out_dir = out or f"runs/{model_name}-{data_name}"
    if model_name == "abs":  # one VAE per class: its own trainer
        from advlab.cli.train_abs import train_abs_cli

        return train_abs_cli(model, ds, data_spec, out_dir, epochs=epochs, batch_size=batch_size, lr=lr or 3e-3,
                             seed=seed, device=device, resume=resume, quiet=quiet)
    lr = 1e-3 if lr is None else lr
    history = fit(model, ds, method=training, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                  schedule=schedule, seed=seed, device=device, checkpoint_dir=out_dir, resume=resume, quiet=quiet)
    run = save_run(out_dir, model.cpu(), data_spec, history.to_json(), training=training.config())
    last = history.last
    if last is not None:
        click.echo(f"{model_name} on {data_name} [{training.name}]: train acc {last.train_accuracy:.4f}, "
                   f"test acc {last.test_accuracy if last.test_accuracy is not None else float('nan'):.4f} "
                   f"after {last.epoch} epochs")
    click.echo(f"saved {run.model_path}")
