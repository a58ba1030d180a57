"""``advlab attack RUN --attack pgd --eps …`` and ``advlab transfer RUN RUN … --attack fgsm --eps …``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advlab.cli.model_source import MODEL_SOURCE, model_source_options, open_model
from advlab.cli.options import given, parse_list, parse_options, run_options

attack_option = click.option("--attack", "attack_name", default=None, help="Attack name (fgsm, bim, pgd, deepfool, cw, fmn, ddn, …).")
norm_option = click.option("--norm", default=None, help="linf, l2, l1 or l0 (default: the attack's own).")
eps_option = click.option("--eps", default=None, help="Comma-separated ε values (minimisation attacks may omit it).")
steps_option = click.option("--steps", type=int, default=None, help="Iterations, for iterative attacks.")
batch_option = click.option("--batch-size", type=int, default=None, help="Attack this many inputs at a time.")
attack_options = click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Extra attack option, e.g. restarts=5.")


def _make_attack(name: str, norm: str | None, steps: int | None, options: tuple[str, ...]) -> Any:
    from advlab.attacks import ATTACKS

    return ATTACKS.create(name, **given(norm=norm, steps=steps), **parse_options(options))


def _test_inputs(run: Any, n: int, data_dir: str | None, quiet: bool) -> tuple[Any, Any, Any]:
    """The run's dataset and its first n test inputs and labels."""
    if n < 1:
        raise ValueError(f"--n must be ≥ 1, got {n}")
    ds = run.load_data(data_dir, quiet=quiet)
    if len(ds.x_test) == 0:
        raise ValueError(f"run {run.path}: its dataset has no test split to attack")
    return ds, ds.x_test[:n], ds.y_test[:n]


def _eps(text: str | None) -> list[float] | None:
    return parse_list(text, float)


def _is_image(shape: tuple[int, ...]) -> bool:
    return (len(shape) == 3 and shape[0] in (1, 3)) or len(shape) == 2


@click.command("attack")
@click.argument("run_path", metavar="RUN", type=MODEL_SOURCE)
@model_source_options
@attack_option
@norm_option
@eps_option
@click.option("--n", "n", type=int, default=1000, show_default=True, help="Attack the first N test inputs.")
@steps_option
@click.option("--targeted", is_flag=True, help="Targeted: each input gets a random other class as target (seeded).")
@batch_option
@attack_options
@click.option("--gallery", "gallery_n", type=int, default=8, show_default=True, help="Images in gallery.png (0: none).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: RUN/attacks/ATTACK-NORM).")
@click.option("--force", is_flag=True, help="Replace an earlier result in the output folder.")
@run_options
def attack(run_path: str, attack_name: str | None, norm: str | None, eps: str | None, n: int, steps: int | None,
           targeted: bool, batch_size: int | None, options: tuple[str, ...], gallery_n: int, out: str | None,
           force: bool, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Attack a trained RUN on its first N test inputs; print robust accuracy and distances, save result and gallery."""
    import torch

    from advlab._io import write_json
    from advlab.device import resolve_device

    run = open_model(run_path)
    model = run.load_model().to(resolve_device(device))
    atk = _make_attack("pgd" if attack_name is None else attack_name, norm, steps, options)
    out_dir = Path(out) if out else run.path / "attacks" / f"{atk.name}-{atk.norm.name}"
    _check_out(out_dir, force)
    if gallery_n < 0:
        raise click.BadParameter(f"must be ≥ 0, got {gallery_n}", param_hint="--gallery")
    if not quiet:
        click.echo(f"{atk!r}", err=True)  # every setting the attack runs with: steps, step size, …
    ds, x, y = _test_inputs(run, n, data_dir, quiet)
    target = None
    if targeted:
        # A uniformly random class other than the true one: y + U{1..k-1} (mod k).
        shift = torch.randint(1, model.num_classes, (len(y),), generator=torch.Generator().manual_seed(seed))
        target = (y + shift) % model.num_classes
    result = atk(model, x, y, eps=_eps(eps), target=target, batch_size=batch_size, seed=seed, quiet=quiet)
    click.echo(str(result))

    out_dir.mkdir(parents=True, exist_ok=True)
    result.save(out_dir / "result.safetensors")
    write_json(out_dir / "summary.json", {
        "run": str(run.path), "dataset": ds.name, "n": len(x), "config": result.config, "targeted": targeted,
        "seed": seed, "clean_accuracy": result.clean_accuracy, "seconds": result.seconds, "table": result.table(),
    })
    written = [out_dir / "result.safetensors", out_dir / "summary.json"]
    if gallery_n > 0 and _is_image(model.input_shape):
        written.append(_save_gallery(result, model, gallery_n, out_dir / "gallery.png"))
    click.echo("wrote " + ", ".join(str(p) for p in written))


def _check_out(out_dir: Path, force: bool) -> None:
    """An earlier result is never replaced silently: refuse unless --force (checked before the attack runs)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} is a file, not a folder", param_hint="--out")
    if (out_dir / "result.safetensors").exists() and not force:
        raise click.ClickException(
            f"{out_dir} already holds an attack result; replace it with --force or choose another --out"
        )


def _save_gallery(result: Any, model: Any, n: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path
    from advlab.viz.gallery import AdversarialGallery

    lo, hi = float(model.bounds.lower.min()), float(model.bounds.upper.max())
    display = AdversarialGallery.from_result(result, model=model, n=n, value_range=(lo, hi))
    with atomic_path(path) as tmp:
        display.figure_.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(display.figure_)
    return path


def _run_names(paths: tuple[str, ...]) -> list[str]:
    names = [Path(p).resolve().name for p in paths]
    return [n if names.count(n) == 1 else str(Path(p)) for n, p in zip(names, paths)]


@click.command("transfer")
@click.argument("run_paths", metavar="RUN...", nargs=-1, required=True, type=MODEL_SOURCE)
@model_source_options
@attack_option
@norm_option
@eps_option
@click.option("--n", "n", type=int, default=500, show_default=True, help="Use the first N test inputs.")
@steps_option
@batch_option
@attack_options
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: runs/transfer-ATTACK-NORM).")
@run_options
def transfer_cmd(run_paths: tuple[str, ...], attack_name: str | None, norm: str | None, eps: str | None, n: int,
                 steps: int | None, batch_size: int | None, options: tuple[str, ...], out: str | None, seed: int,
                 device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Craft adversarials on each RUN and evaluate them on every RUN: the transfer matrix (printed and plotted)."""
    from advlab._io import write_json
    from advlab.device import resolve_device
    from advlab.evaluate import transfer

    runs = [open_model(p, among_others=True) for p in run_paths]
    datasets = {r.info.get("data", {}).get("name") for r in runs}
    if len(datasets) > 1:
        raise ValueError(f"transfer: the runs were trained on different datasets {sorted(map(str, datasets))}; use runs of one dataset")
    dev = resolve_device(device)
    models = {name: r.load_model().to(dev) for name, r in zip(_run_names(run_paths), runs)}
    atk = _make_attack("fgsm" if attack_name is None else attack_name, norm, steps, options)
    eps_list = _eps(eps)
    if eps_list is None and not atk.minimization:
        raise ValueError(f"transfer: {atk.name} needs --eps (e.g. --eps 0.25)")
    _, x, y = _test_inputs(runs[0], n, data_dir, quiet)
    result = transfer(models, models, atk, x, y, eps_list, batch_size=batch_size, seed=seed, quiet=quiet)
    click.echo(str(result))

    out_dir = Path(out) if out else Path("runs") / f"transfer-{atk.name}-{atk.norm.name}"
    write_json(out_dir / "transfer.json", {"runs": [str(r.path) for r in runs], "seed": seed, **result.to_json()})
    figure = _save_transfer_figure(result, out_dir / "transfer.png")
    click.echo(f"wrote {out_dir / 'transfer.json'}, {figure}")


def _save_transfer_figure(result: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path
    from advlab.viz.transfer_display import TransferDisplay

    fig = TransferDisplay.grid(result)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
