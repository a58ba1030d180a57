"""``advlab sweep --data mnist --model cnn-small --method standard,fast --eps 0.1,0.3 --seeds 0,1 --eval-eps …``."""

from __future__ import annotations

from pathlib import Path

import click

from advlab.cli.options import parse_list, parse_options, run_options
from advlab.cli.robustness_cmd import engine_options, make_engine, parse_attacks


@click.command("sweep")
@click.option("--data", "data_name", required=True, help="Dataset name (see `advlab data list`).")
@click.option("--limit-train", type=int, default=None, help="Train on the first N training inputs only.")
@click.option("--model", "models", default="cnn-small", show_default=True, help="Comma-separated zoo models.")
@click.option("--method", "methods", default="standard", show_default=True, help="Comma-separated training methods.")
@click.option("--eps", default=None, help="Comma-separated training ε (methods that take one).")
@click.option("--seeds", default="0", show_default=True, help="Comma-separated training seeds.")
@click.option("--epochs", type=int, default=5, show_default=True)
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--schedule", type=click.Choice(["constant", "cosine", "step", "cyclic"]), default=None)
@click.option("--amp", is_flag=True, help="Mixed-precision training.")
@click.option("--option", "model_options", multiple=True, metavar="KEY=VALUE", help="Model option.")
@click.option("--method-option", "method_options", multiple=True, metavar="KEY=VALUE", help="Training-method option.")
@click.option("--attack", "attacks", multiple=True, help="Evaluation attack (repeat; worst case per point), e.g. pgd:steps=20.")
@click.option("--eval-eps", required=True, help="Comma-separated evaluation ε values.")
@click.option("--n", "n", type=int, default=500, show_default=True, help="Evaluate on the first N test inputs.")
@click.option("--shard-size", type=int, default=100, show_default=True, help="Evaluation inputs per shard.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: runs/sweep).")
@engine_options
@run_options
def sweep_cmd(data_name: str, limit_train: int | None, models: str, methods: str, eps: str | None, seeds: str,
              epochs: int, batch_size: int, lr: float, optimizer: str, schedule: str | None, amp: bool,
              model_options: tuple[str, ...], method_options: tuple[str, ...], attacks: tuple[str, ...],
              eval_eps: str, n: int, shard_size: int, out: str | None, engine: str, address: str | None,
              workers: int | None, threads: int, gpus_per_shard: float | None, seed: int, device: str | None,
              data_dir: str | None, quiet: bool) -> None:
    """Train a grid of configurations (model × method × ε × seed), evaluate each, write a table and a figure."""
    from advlab.engine.sweep import SweepGrid, sweep

    data = {"name": data_name, **({"limit_train": limit_train} if limit_train else {})}
    grid = SweepGrid(data=data, models=parse_list(models) or [], methods=parse_list(methods) or [],
                     eps=parse_list(eps, float) or [], seeds=parse_list(seeds, int) or [0], epochs=epochs,
                     batch_size=batch_size, lr=lr, optimizer=optimizer, schedule=schedule, amp=amp,
                     model_options=parse_options(model_options), method_options=parse_options(method_options))  # fmt: skip
    specs = parse_attacks(attacks, None, None, ())
    try:
        result = sweep(grid, specs, parse_list(eval_eps, float) or [], n, Path(out or "runs/sweep"),
                       engine=make_engine(engine, address, workers, gpus_per_shard), shard_size=shard_size, seed=seed,
                       data_dir=data_dir, threads=threads, device=device, quiet=quiet)  # fmt: skip
    except RuntimeError as exc:
        raise click.ClickException(f"{exc} (finished shards are kept; run the same command again to resume)") from exc
    click.echo(result.files[1].read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(map(str, result.files)))
