"""Run an experiment and write its folder: metrics.json, figures as PNG, report.html."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from advlab._io import atomic_path, write_json
from advlab.experiments.registry import EXPERIMENTS, ExperimentContext, ExperimentResult
from advlab.progress import echo


def save_figures(result: ExperimentResult, out_dir: Path) -> dict[str, Path]:
    import matplotlib.pyplot as plt

    paths = {}
    for name, fig in result.figures.items():
        path = out_dir / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        paths[name] = path
        plt.close(fig)
    return paths


def write_outputs(result: ExperimentResult, out_dir: Path) -> dict[str, Path]:
    from advlab.report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = {
        "experiment": result.name,
        "title": result.title,
        "scale": result.scale,
        **result.metrics,
        "comparisons": [c.row() for c in result.comparisons],
    }
    write_json(out_dir / "metrics.json", metrics)
    figures = save_figures(result, out_dir)
    write_report(out_dir / "report.html", result.title, "", [(result, figures)])
    return figures


def run_experiment(name: str, ctx: ExperimentContext) -> ExperimentResult:
    """Run one registered experiment, write its folder, print ours beside the paper's numbers."""
    result = EXPERIMENTS.get(name).run(ctx)
    write_outputs(result, ctx.out_dir)
    if not ctx.quiet:
        text = result.comparison_text()
        echo(f"[bold]{escape(result.title)}[/bold]" + (f"\nscale: {escape(result.scale)}" if result.scale else ""), markup=True)
        if text:
            print(text)
        echo(f"wrote {ctx.out_dir / 'metrics.json'} and {ctx.out_dir / 'report.html'}")
    return result
