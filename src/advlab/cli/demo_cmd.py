"""``advlab demo``: both fooling experiments on embedded data, one HTML report, in about a minute."""

from __future__ import annotations

import time
from pathlib import Path

import click

from advlab.cli.options import quiet_option

INTRO = """\
Classifiers draw boundaries through the whole input space, not just where the data lie. A model can be \
right on almost every training example and still give confident answers to inputs that look like nothing \
it was trained on: points far from the data, or images that resemble no digit. The pictures below show \
this for the simplest models.

Each region picture colours every point of a 2-D input space by the class the model predicts; the colour \
is pale where the model is unsure and strong where it is certain. Black lines are the decision boundaries, \
where two classes are equally likely. Red circles mark training points the model gets wrong; gold stars \
mark query points far from the data. Note how the colours stay strong, i.e. the model stays certain, all \
the way to the edge of every picture."""

DEMO_EXPERIMENTS = ("iris-fooling", "bottleneck-fooling")


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="runs/demo", show_default=True)
@quiet_option
def demo(out: str, quiet: bool) -> None:
    """Run the iris and bottleneck fooling experiments on embedded data and write one report."""
    from advlab.experiments import ExperimentContext, get_experiment
    from advlab.experiments.runner import write_outputs
    from advlab.report import write_report

    t0 = time.perf_counter()
    out_dir = Path(out)
    sections = []
    for name in DEMO_EXPERIMENTS:
        ctx = ExperimentContext(out_dir / name, quiet=quiet, fast=True, options={"data": "digits"})
        if not quiet:
            click.echo(f"running {name} …")
        result = get_experiment(name).run(ctx)
        figures = write_outputs(result, ctx.out_dir)
        sections.append((result, figures))
        if not quiet and result.comparisons:
            click.echo(result.comparison_text())
    report = write_report(out_dir / "report.html", "advlab demo: confident far from the data", INTRO, sections)
    click.echo(f"report: {report.resolve()}  ({time.perf_counter() - t0:.0f} s)")
