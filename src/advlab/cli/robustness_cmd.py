"""``advlab robustness RUN… --attack pgd --attack fgsm --eps 0.1,0.3 [--engine ray]``: sharded robust accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advlab.cli.options import parse_list, parse_options, run_options, stacked

engine_options = stacked(
    click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="Run shards in this process or as Ray tasks."),
    click.option("--address", default=None, envvar="RAY_ADDRESS",
                 help="Ray cluster to join (default: $RAY_ADDRESS; none: start a local cluster)."),
    click.option("--workers", type=int, default=None, help="CPUs of a local Ray cluster started here (default: all)."),
    click.option("--threads", type=int, default=1, show_default=True, help="CPU threads per shard (same on every engine)."),
    click.option("--gpus-per-shard", type=float, default=None, help="Ray: GPUs per shard (default: 1 if the cluster has GPUs)."),
)  # fmt: skip


def make_engine(engine: str, address: str | None, workers: int | None, gpus_per_shard: float | None) -> Any:
    from advlab.engine import make_executor

    return make_executor(engine, address=address, workers=workers, gpus_per_shard=gpus_per_shard)


def parse_attacks(names: tuple[str, ...], norm: str | None, steps: int | None, options: tuple[str, ...]) -> list[Any]:
    """``--attack`` names (each may carry options: ``pgd:steps=50,restarts=2``) with shared --norm/--steps/--option."""
    from advlab.engine import AttackSpec

    shared = parse_options(options)
    specs = []
    for text in names or ("pgd",):
        name, _, own = text.partition(":")
        opts = {**shared, **parse_options(tuple(p for p in own.split(",") if p))}
        if steps is not None:
            opts.setdefault("steps", steps)
        specs.append(AttackSpec(name.strip(), opts.pop("norm", norm), opts))
    return specs


def write_table(rows: list[dict[str, Any]], out: Path, title: str) -> list[Path]:
    from advlab._io import write_json, write_text

    keys = list(rows[0]) if rows else []
    lines = [f"# {title}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()) + " |")
    return [write_json(out / "summary.json", {"rows": rows}), write_text(out / "summary.md", "\n".join(lines) + "\n")]


@click.command("robustness")
@click.argument("run_paths", metavar="RUN...", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--attack", "attacks", multiple=True, help="Attack of the suite (repeat; worst case per point), e.g. pgd:steps=50.")
@click.option("--suite", "suite_preset", default=None, help="Instead of --attack: advlab.evaluate's suite preset "
              "(standard, quick) for --norm, a cascade over all ε per shard.")
@click.option("--norm", default=None, help="linf, l2, l1 (default: each attack's own; linf for --suite).")
@click.option("--eps", required=True, help="Comma-separated ε values.")
@click.option("--n", "n", type=int, default=1000, show_default=True, help="Evaluate the first N test inputs.")
@click.option("--steps", type=int, default=None, help="Iterations, for iterative attacks.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Option for every attack.")
@click.option("--batch-size", type=int, default=None, help="Attack this many inputs at a time.")
@click.option("--shard-size", type=int, default=100, show_default=True, help="Inputs per shard.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: runs/robustness).")
@engine_options
@run_options
def robustness(run_paths: tuple[str, ...], attacks: tuple[str, ...], suite_preset: str | None, norm: str | None, eps: str, n: int,
               steps: int | None, options: tuple[str, ...], batch_size: int | None, shard_size: int, out: str | None,
               engine: str, address: str | None, workers: int | None, threads: int, gpus_per_shard: float | None,
               seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Robust accuracy of each RUN per ε, worst case over the attacks, in shards; a rerun skips finished shards."""
    from advlab.engine import evaluation_shards, run_shards, suite_shards, summarize

    eps_list = parse_list(eps, float) or []
    if suite_preset is not None:
        if attacks:
            raise click.UsageError("give either --suite or --attack, not both")
        shards = suite_shards(list(run_paths), eps_list, n, norm=norm or "linf", preset=suite_preset,
                              shard_size=shard_size, seed=seed, data_dir=data_dir, batch_size=batch_size)  # fmt: skip
        names = [f"{suite_preset} {norm or 'linf'} suite"]
    else:
        specs = parse_attacks(attacks, norm, steps, options)
        shards = evaluation_shards(list(run_paths), specs, eps_list, n, shard_size=shard_size, seed=seed,
                                   data_dir=data_dir, batch_size=batch_size)  # fmt: skip
        names = [s.name for s in specs]
    out_dir = Path(out or "runs/robustness")
    try:
        run = run_shards(shards, out_dir, engine=make_engine(engine, address, workers, gpus_per_shard), threads=threads,
                         device=device, quiet=quiet, description="robustness")
    except RuntimeError as exc:
        raise click.ClickException(f"{exc} (finished shards are kept; run the same command again to resume)") from exc
    rows = summarize(run.shards, run.results)
    for r in rows:
        click.echo(f"{r['model']}  eps={r['eps']:g}  clean {r['clean_accuracy']:.4f}  robust {r['robust_accuracy']:.4f}  (n={r['n']})")
    written = write_table(rows, out_dir, f"Robust accuracy ({', '.join(names)})")
    click.echo(f"{len(run.ran)} shard(s) run, {len(run.reused)} reused; wrote " + ", ".join(map(str, written)))
