"""``advlab reproduce NAME`` and ``advlab reproduce --list``."""

from __future__ import annotations

from pathlib import Path

import click

from advlab.cli.options import data_dir_option, device_option, friendly_errors, parse_options, quiet_option, seed_option


@click.command("reproduce")
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the experiments, one line each.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: runs/NAME).")
@click.option("--fast", is_flag=True, help="Smaller scale (fewer epochs/samples), stated in the results.")
@click.option("--query", "queries", multiple=True, metavar="X,Y", help="Extra 2-D query point (iris-fooling).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Experiment-specific option.")
@seed_option
@device_option
@data_dir_option
@quiet_option
@friendly_errors
def reproduce(name: str | None, list_: bool, out: str | None, fast: bool, queries: tuple[str, ...],
              options: tuple[str, ...], seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Run one registered experiment; writes metrics.json, figures and report.html."""
    from advlab.experiments import EXPERIMENTS, ExperimentContext, run_experiment

    if list_ or name is None:
        from advlab.experiments.durations import expected_duration

        for _, exp in EXPERIMENTS.items():
            took = expected_duration(exp.name)
            when = f" [full {took[0]}, --fast {took[1]} on 2 CPU cores]" if took else ""
            click.echo(f"{exp.name:<22} {exp.summary}{when}")
        return
    from advlab.experiments.options import check_options

    opts = parse_options(options)
    check_options(name, EXPERIMENTS.get(name).module, opts)
    if queries:
        try:
            opts["queries"] = [tuple(float(v) for v in q.split(",")) for q in queries]
        except ValueError as exc:
            raise click.BadParameter(f"--query expects X,Y numbers, got {queries}") from exc
    ctx = ExperimentContext(Path(out or f"runs/{name}"), Path(data_dir) if data_dir else None, quiet, device, seed, fast, opts)
    run_experiment(name, ctx)
