"""``advlab train MODEL --data NAME --out runs/NAME``."""

from __future__ import annotations

from typing import Any

import click

from advlab.cli.options import given, parse_list, parse_options, run_options


def _int_or_str(v: str) -> int | str:
    return int(v) if v.lstrip("-").isdigit() else v


@click.command("train")
@click.argument("model_name", metavar="MODEL")
@click.option("--data", "data_name", required=True, help="Dataset name (see `advlab data list`).")
@click.option("--classes", default=None, help="Class subset, e.g. 0,1,2,3.")
@click.option("--features", default=None, help="Tabular feature subset, e.g. 'petal length,petal width'.")
@click.option("--limit-train", type=int, default=None, help="Use only the first N training inputs.")
@click.option("--epochs", type=int, default=None, help="Epochs (default: the method's recommended, else 5).")
@click.option("--batch-size", type=int, default=None, help="Batch size (default: the method's recommended, else 128).")
@click.option("--lr", type=float, default=None, help="(Maximum) learning rate (default: the method's recommended, else 0.001).")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--schedule", type=click.Choice(["constant", "cosine", "step", "cyclic"]), default=None, help="Learning-rate schedule (default: the method's, else constant).")
@click.option("--method", default="standard", show_default=True, help="Training method (see advlab.train.METHODS.names()).")
@click.option("--eps", type=float, default=None, help="Perturbation size for robust training methods.")
@click.option("--method-option", "method_options", multiple=True, metavar="KEY=VALUE", help="Extra training-method option.")
@click.option("--option", "model_options", multiple=True, metavar="KEY=VALUE", help="Model option, e.g. widths=[100,2].")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: runs/MODEL-DATA).")
@click.option("--resume", is_flag=True, help="Continue from the run folder's last checkpoint.")
@click.option("--force", is_flag=True, help="Replace an earlier run in the --out folder.")
@click.option("--amp", is_flag=True, help="Mixed precision (float16 + loss scaling on CUDA, bfloat16 on the CPU).")
@run_options
def train(model_name: str, data_name: str, classes: str | None, features: str | None, limit_train: int | None,
          epochs: int | None, batch_size: int | None, lr: float | None, optimizer: str, schedule: str | None, method: str,
          eps: float | None, method_options: tuple[str, ...], model_options: tuple[str, ...], out: str | None,
          resume: bool, force: bool, amp: bool, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Train a zoo MODEL on a dataset; writes model.safetensors, run.json and history.json."""
    from advlab import data as data_mod
    from advlab.models import build, family
    from advlab.runs import save_run
    from advlab.train import METHODS, fit

    family(model_name)  # fail on an unknown model before loading (maybe downloading) the data
    out_dir = out or f"runs/{model_name}-{data_name}"
    _check_out(out_dir, resume, force)
    model_opts = parse_options(model_options)
    training = METHODS.create(method, **given(eps=eps), **parse_options(method_options))
    data_spec: dict[str, Any] = {"name": data_name}
    if classes:
        data_spec["classes"] = parse_list(classes, _int_or_str)
    if features:
        data_spec["features"] = parse_list(features, _int_or_str)
    if limit_train is not None:
        if limit_train < 1:
            raise click.BadParameter(f"must be ≥ 1, got {limit_train}", param_hint="--limit-train")
        data_spec["limit_train"] = limit_train
    ds = data_mod.load(data_dir=data_dir, quiet=quiet, **data_spec)
    model = build(model_name, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed, **model_opts)
    if model_name == "abs":  # one VAE per class: its own trainer
        from advlab.cli.train_abs import train_abs_cli

        return train_abs_cli(model, ds, data_spec, out_dir, epochs=epochs or 5, batch_size=batch_size or 128, lr=lr or 3e-3,
                             seed=seed, device=device, resume=resume, quiet=quiet)
    history = fit(model, ds, method=training, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                  schedule=schedule, seed=seed, device=device, checkpoint_dir=out_dir, resume=resume, quiet=quiet,
                  amp=amp)
    run = save_run(out_dir, model.cpu(), data_spec, history.to_json(), training=training.config(),
                   **({"robust_checkpoint": history.robust_checkpoint} if history.robust_checkpoint else {}))
    last = history.last
    if last is not None:
        click.echo(f"{model_name} on {data_name} [{training.name}]: train acc {last.train_accuracy:.4f}, "
                   f"test acc {last.test_accuracy if last.test_accuracy is not None else float('nan'):.4f} "
                   f"after {last.epoch} epochs")
    click.echo(f"saved {run.model_path}")


def _check_out(out_dir: str, resume: bool, force: bool) -> None:
    """Never replace an earlier run silently: refuse a folder that holds one, unless --resume or --force."""
    from pathlib import Path

    from advlab.runs import MODEL_FILE
    from advlab.train.checkpoint import CHECKPOINT_NAME

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{folder} is a file, not a folder", param_hint="--out")
    earlier = [name for name in (MODEL_FILE, CHECKPOINT_NAME) if (folder / name).exists()]
    if earlier and not resume and not force:
        raise click.ClickException(
            f"{folder} already holds a run ({', '.join(earlier)}); continue it with --resume, replace it with --force, "
            "or choose another --out"
        )
    if resume and CHECKPOINT_NAME not in earlier:
        raise click.ClickException(f"--resume: {folder} holds no checkpoint to continue from")
