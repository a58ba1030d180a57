"""``advlab fool RUN --strategy ascent|ascent-nes|evolve-direct|evolve-cppn|invert|cma --classes all --confidence 0.99``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advlab.cli.options import parse_options, run_options

STRATEGIES = ("ascent", "ascent-nes", "evolve-direct", "evolve-cppn", "invert", "cma")


def parse_classes(text: str, names: tuple[str, ...]) -> list[int] | None:
    """'all' → None (every class); else a comma-separated list of class indices or class names."""
    if text.strip().lower() == "all":
        return None
    out = []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        if token in names:
            out.append(names.index(token))
        elif token.lstrip("-").isdigit() and 0 <= int(token) < len(names):
            out.append(int(token))
        else:
            raise click.BadParameter(f"expected 'all' or class indices/names from {list(names)}, got {token!r}", param_hint="--classes")
    if not out:
        raise click.BadParameter(f"expected 'all' or a comma-separated list of classes, got {text!r}", param_hint="--classes")
    return out


@click.command("fool")
@click.argument("run_path", metavar="RUN", type=click.Path(exists=True))
@click.option("--strategy", type=click.Choice(STRATEGIES), default="ascent", show_default=True, help="How to search.")
@click.option("--classes", "classes_text", default="all", show_default=True, help="'all' or comma-separated classes (indices or names).")
@click.option("--confidence", type=float, default=0.99, show_default=True, help="Required probability of the target class.")
@click.option("--budget", type=int, default=2000, show_default=True,
              help="Model evaluations allowed per class (a gradient step counts one).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Strategy option, e.g. l2=0.1, starts=4, batch=50.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: RUN/fooling/STRATEGY).")
@run_options
def fool(run_path: str, strategy: str, classes_text: str, confidence: float, budget: int, options: tuple[str, ...],
         out: str | None, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:  # fmt: skip
    """Search inputs that the model of RUN labels as each class with the required confidence; save them and a grid."""
    import torch

    from advlab._io import write_json
    from advlab.device import resolve_device
    from advlab.fooling import make_strategy
    from advlab.runs import open_run

    if not 0.0 < confidence < 1.0:
        raise click.BadParameter(f"expected a probability in (0, 1), got {confidence}", param_hint="--confidence")
    run = open_run(run_path)
    dev = resolve_device(device)
    if dev.type == "cpu":
        # The searches run many small batches: one thread avoids threads waiting on each other (far faster on
        # a busy machine) and fixes the numbers for a given seed.
        torch.set_num_threads(1)
    model = run.load_model().to(dev)
    classes = parse_classes(classes_text, model.classes)
    n_classes = model.num_classes if classes is None else len(classes)
    reference = None
    if run.info.get("data"):
        reference = run.load_data(data_dir, quiet=quiet).x_train
    elif strategy == "invert":
        raise ValueError(f"invert needs the training data, but {run.path} does not say which dataset the model was trained on "
                         "(use a run folder written by `advlab train`)")  # fmt: skip
    method = make_strategy(strategy, budget=budget, classes=n_classes, **parse_options(options))
    result = method(model, classes, required=confidence, seed=seed, reference=reference, quiet=quiet)
    click.echo(str(result))
    out_dir = Path(out) if out else run.path / "fooling" / strategy
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [result.save(out_dir / "result.safetensors")]
    write_json(out_dir / "summary.json", {
        "run": str(run.path), "strategy": strategy, "config": result.config, "confidence": confidence, "budget": budget,
        "seed": seed, "seconds": result.seconds, "success_rate": result.success_rate, "table": result.table(),
        "nearest_distance_reference": "training images" if reference is not None else None,
    })  # fmt: skip
    written.append(out_dir / "summary.json")
    if len(model.input_shape) in (2, 3):
        written.append(_save_grid(result, model, out_dir / "grid.png"))
    click.echo("wrote " + ", ".join(str(p) for p in written))


def _save_grid(result: Any, model: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path
    from advlab.viz.fooling_grid import FoolingGridDisplay

    lo, hi = float(model.bounds.lower.min()), float(model.bounds.upper.max())
    display = FoolingGridDisplay.from_results([result], value_range=(lo, hi))
    with atomic_path(path) as tmp:
        display.figure_.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(display.figure_)
    return path
