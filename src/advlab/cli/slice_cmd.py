"""``advlab slice|church|profile RUN …`` and ``advlab animate MODEL --data NAME …``: decision-region pictures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from advlab.cli.model_source import MODEL_SOURCE, model_source_options, open_model
from advlab.cli.options import given, parse_list, parse_options, run_options, stacked

_FORMATS = {".png", ".svg", ".pdf"}

attack_option = click.option("--attack", "attack_name", default="pgd", show_default=True, help="Attack making the adversarial b (or 'gradient' for church).")
norm_option = click.option("--norm", default=None, help="linf, l2, l1 (default: the attack's own).")
eps_option = click.option("--eps", type=float, default=None, help="Attack size (default: 0.1 in L∞, 1.5 in L2, 10 in L1; none for minimisation attacks).")
steps_option = click.option("--steps", type=int, default=None, help="Iterations, for iterative attacks.")
attack_options = click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Extra attack option, e.g. restarts=3.")
third_option = click.option(
    "--third", default="random-image", show_default=True,
    help="Third point: grey, random-image, random-perturbation, attack:NAME, seed:K, model:RUN, image:INDEX.",
)
size_option = click.option("--size", type=float, default=None, help="Size of a random-perturbation third point (in --perturbation-norm).")
pnorm_option = click.option("--perturbation-norm", default="l2", show_default=True, help="Norm of a random-perturbation third point.")
#: How b is made: --attack, --norm, --eps, --steps, --option.
adversarial_options = stacked(attack_option, norm_option, eps_option, steps_option, attack_options)
#: How c is chosen: --third, --size, --perturbation-norm.
third_point_options = stacked(third_option, size_option, pnorm_option)
#: The church windows' adversarial directions: a minimal adversarial by default (FMN, L2), moved past the boundary.
church_attack_options = stacked(
    click.option("--attack", "attack_name", default="fmn", show_default=True,
                 help="Attack making each window's adversarial direction, within the face of H ('gradient': the loss gradient)."),
    norm_option, eps_option, steps_option, attack_options,
)
index_option = click.option("--index", type=int, default=0, show_default=True, help="Test image a.")
#: The triangle of test image a, its adversarial b and a third point c (see ``_triangle``).
triangle_options = stacked(index_option, adversarial_options, third_point_options)


@dataclass(frozen=True)
class _Triangle:
    """Test image a, its adversarial b and a third point c, with the model and the attack (and ε) that made b."""

    model: Any
    attack: Any
    eps: float | None
    a: Any
    b: Any
    c: Any
    extended: float | None = None  # b = a + f·(minimal adversarial − a) for a minimisation attack


def _attack(name: str, norm: str | None, steps: int | None, options: tuple[str, ...], eps: float | None) -> tuple[Any, float | None]:
    from advlab.attacks import ATTACKS

    if eps is not None and not (math.isfinite(eps) and eps > 0):
        raise click.BadParameter(f"must be a finite number > 0, got {eps}", param_hint="--eps")
    atk = ATTACKS.create(name, **given(norm=norm, steps=steps), **parse_options(options))
    if eps is None and not atk.minimization:
        eps = atk.norm.default_eps
    return atk, eps


def _load(run_path: str, device: str | None, data_dir: str | None, quiet: bool) -> tuple[Any, Any, Any]:
    from advlab.device import resolve_device
    run = open_model(run_path)
    model = run.load_model().to(resolve_device(device))
    ds = run.load_data(data_dir, quiet=quiet)
    if len(ds.x_test) == 0:
        raise ValueError(f"run {run.path}: its dataset has no test split to draw images from")
    return run, model, ds


def _image(ds: Any, index: int) -> Any:
    if not -len(ds.x_test) <= index < len(ds.x_test):
        raise ValueError(f"--index {index} is out of range: the test set has {len(ds.x_test)} inputs")
    return ds.x_test[index]


def _out_path(out: str | None, default: Path) -> Path:
    path = Path(out) if out else default
    if path.suffix.lower() not in _FORMATS:
        raise ValueError(f"--out must end in {', '.join(sorted(_FORMATS))}, got {path.name!r}")
    return path


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _triangle(run_path: str, index: int, out: str | None, picture: str, *, attack_name: str, norm: str | None,
              eps: float | None, steps: int | None, options: tuple[str, ...], third: str, size: float | None,
              perturbation_norm: str, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> tuple[Path, _Triangle]:
    """The run's test image ``index`` as a, its adversarial b and the third point c; and the picture's path
    (``--out``, default RUN/slices/PICTURE-INDEX.png), checked before any attack runs."""
    import torch

    from advlab.cli.third_point_spec import parse_third_point
    from advlab.viz.third_points import adversarial_of, third_point

    run, model, ds = _load(run_path, device, data_dir, quiet)
    path = _out_path(out, run.path / "slices" / f"{picture}-{index}.png")
    a = _image(ds, index)
    atk, eps = _attack(attack_name, norm, steps, options, eps)
    b = adversarial_of(model, a, atk, eps=eps, seed=seed)
    strategy = parse_third_point(third, data=ds, size=size, norm=perturbation_norm, eps=eps)
    c = third_point(strategy, model, a, b, attack=atk, eps=eps, generator=torch.Generator().manual_seed(seed))
    extended = None
    if atk.minimization:  # b sits on the boundary: move it past, along its own direction, so its region shows
        from advlab.viz.extend import extend_adversarial

        b, extended = extend_adversarial(model, a, b)
    return path, _Triangle(model, atk, eps, a, b, c, extended)


def _extended_line(t: _Triangle) -> str:
    """The title's second line when b was moved past the boundary (a minimisation attack), else ''."""
    if t.extended is None:
        return ""
    return f"\nb = a + {t.extended:.3g}×(minimal adversarial − a), clipped to H: past the boundary"


def _prediction_line(model: Any, points: dict[str, Any]) -> str:
    import torch

    probs = model.predict_proba(torch.stack(list(points.values()))).cpu()
    conf, pred = probs.max(dim=1)
    return ", ".join(f"{n}: {model.classes[int(k)]} ({float(p):.2f})" for n, k, p in zip(points, pred, conf))


@click.command("slice")
@click.argument("run_path", metavar="RUN", type=MODEL_SOURCE)
@model_source_options
@triangle_options
@click.option("--resolution", type=int, default=256, show_default=True, help="Pixels per side.")
@click.option("--zoom", type=float, default=None, help="Magnify around the midpoint of a and b (local view).")
@click.option("--out", default=None, help="Picture file .png/.svg/.pdf (default: RUN/slices/slice-INDEX.png).")
@run_options
def slice_cmd(run_path: str, index: int, attack_name: str, norm: str | None, eps: float | None, steps: int | None,
              options: tuple[str, ...], third: str, size: float | None, perturbation_norm: str, resolution: int,
              zoom: float | None, out: str | None, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """The slice of the input box through test image a, its adversarial b and a third point c."""
    import matplotlib

    matplotlib.use("Agg")
    from advlab.viz import SliceDisplay, component_counts, compute_slice

    path, t = _triangle(run_path, index, out, "slice", attack_name=attack_name, norm=norm, eps=eps, steps=steps,
                        options=options, third=third, size=size, perturbation_norm=perturbation_norm, seed=seed,
                        device=device, data_dir=data_dir, quiet=quiet)
    model, atk, eps, a, b, c = t.model, t.attack, t.eps, t.a, t.b, t.c.to(t.a.dtype)
    data = compute_slice(model, a, b, c, resolution=resolution, zoom=zoom, quiet=quiet)
    title = f"{atk.name} ({atk.norm.name}{'' if eps is None else f', ε = {eps:g}'}), third point: {third}{_extended_line(t)}"
    fig = SliceDisplay(data).plot(title=title, images=(a.cpu(), b.cpu(), c.cpu())).figure_
    click.echo(_prediction_line(model, {"a": a, "b": b, "c": c}))
    counts = {k: v for k, v in component_counts(data).items() if v}
    click.echo(f"inside H: {100 * data.feasible.mean():.1f}% of the rectangle; class regions (4-connected components): {counts}")
    click.echo(f"wrote {_save(fig, path)}")


@click.command("church")
@click.argument("run_path", metavar="RUN", type=MODEL_SOURCE)
@model_source_options
@click.option("--indices", default="0,1,2,3", show_default=True, help="Comma-separated test images (one row each).")
@church_attack_options
@click.option("--kinds", default="adversarial,random,targeted", show_default=True, help="Window kinds (columns).")
@click.option("--radius", type=float, default=None,
              help="Largest window half-width, L2 (default: 0.6× the median distance to ☆ with --center midpoint, else 2×).")
@click.option("--min-inside", type=float, default=0.5, show_default=True,
              help="Shrink each window to the largest square with this share of its area inside H (0: one half-width for all).")
@click.option("--extend", type=float, default=1.5, show_default=True,
              help="Minimisation attacks: move ☆ to this multiple of the minimal distance, clipped to H (1: on the boundary).")
@click.option("--resolution", type=int, default=48, show_default=True, help="Pixels per window side.")
@click.option("--outside", type=click.Choice(["auto", "grey", "faded"]), default="auto", show_default=True,
              help="Outside H: grey, or the model's labels faded (auto: grey when most window pixels are inside H).")
@click.option("--face/--no-face", default=True, show_default=True,
              help="Directions within the face of H containing each image (pixels at a bound stay fixed).")
@click.option("--center", type=click.Choice(["midpoint", "image"]), default="midpoint", show_default=True,
              help="Centre adversarial windows between the image and ☆ (most of the window in H) or on the image.")
@click.option("--out", default=None, help="Picture file (default: RUN/slices/church.png).")
@run_options
def church(run_path: str, indices: str, attack_name: str, norm: str | None, eps: float | None, steps: int | None,
           options: tuple[str, ...], kinds: str, radius: float | None, min_inside: float, extend: float, resolution: int,
           outside: str, face: bool,
           center: str, out: str | None, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Church-window grid: small slices centred on test images along adversarial and random directions."""
    import matplotlib
    import torch

    matplotlib.use("Agg")
    from advlab.viz import ChurchDisplay, compute_church_windows

    run, model, ds = _load(run_path, device, data_dir, quiet)
    path = _out_path(out, run.path / "slices" / "church.png")
    idx = parse_list(indices, int) or []
    if not idx:
        raise ValueError("--indices must name at least one test image")
    x = torch.stack([_image(ds, i) for i in idx])
    if attack_name == "gradient":
        atk, eps = "gradient", None
    else:
        atk, eps = _attack(attack_name, norm, steps, options, eps)
    data = compute_church_windows(model, x, ds.y_test[idx], attack=atk, eps=eps, kinds=parse_list(kinds) or (),
                                  radius=radius, resolution=resolution, seed=seed, face=face,
                                  center="image" if attack_name == "gradient" else center, min_inside=min_inside,
                                  extend=extend)
    inside = float(data.feasible.mean())
    half = data.half_widths
    click.echo(f"{len(idx)} images × {len(data.kinds)} windows, half-width {half.min():.3g}–{half.max():.3g} (L2, at most "
               f"{data.radius:.3g}); inside H: {100 * inside:.1f}% of the window pixels (whole windows fit in H up to "
               f"half-width {float(data.inside_radius.min()):.3g})")
    pixels = data.feasible.mean(axis=(2, 3))
    crosses = data.crosses_boundary()
    for j, kind in enumerate(data.kinds):
        line = (f"  {kind}: {100 * pixels[:, j].mean():.1f}% inside H on average, {100 * (pixels[:, j] >= 0.5).mean():.0f}% of "
                f"the windows at least half inside")
        if kind != "random":
            line += f"; the adversarial axis crosses a boundary inside H in {100 * crosses[:, j].mean():.0f}%"
        click.echo(line)
    if outside == "auto":
        outside = "grey" if inside >= 0.5 else "faded"
    click.echo(f"wrote {_save(ChurchDisplay(data).plot(outside=outside).figure_, path)}")


@click.command("profile")
@click.argument("run_path", metavar="RUN", type=MODEL_SOURCE)
@model_source_options
@triangle_options
@click.option("--points", type=int, default=200, show_default=True, help="Samples per side of the triangle.")
@click.option("--log", "log_scale", is_flag=True, help="Logarithmic probability axis.")
@click.option("--out", default=None, help="Picture file (default: RUN/slices/profile-INDEX.png).")
@run_options
def profile(run_path: str, index: int, attack_name: str, norm: str | None, eps: float | None, steps: int | None,
            options: tuple[str, ...], third: str, size: float | None, perturbation_norm: str, points: int, log_scale: bool,
            out: str | None, seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Every class's probability along a → b → c → a (a = test image, b = its adversarial, c = third point)."""
    import matplotlib

    matplotlib.use("Agg")
    from advlab.viz import ProfileDisplay, compute_profiles

    path, t = _triangle(run_path, index, out, "profile", attack_name=attack_name, norm=norm, eps=eps, steps=steps,
                        options=options, third=third, size=size, perturbation_norm=perturbation_norm, seed=seed,
                        device=device, data_dir=data_dir, quiet=quiet)
    data = compute_profiles(t.model, t.a, t.b, t.c, points=points)
    for k, side in enumerate(("a → b", "b → c", "c → a")):
        click.echo(f"{side}: predicted class changes {data.class_changes(k)} time(s)")
    title = f"{t.attack.name} adversarial, third point: {third}{_extended_line(t)}"
    if t.extended is not None:
        click.echo(_extended_line(t).strip())
    fig = ProfileDisplay(data).plot(log=log_scale, title=title).figure_
    click.echo(f"wrote {_save(fig, path)}")


@click.command("animate")
@click.argument("model_name", metavar="MODEL")
@click.option("--data", "data_name", required=True, help="Dataset name (see `advlab data list`).")
@click.option("--epochs", type=int, default=5, show_default=True)
@index_option
@click.option("--other", type=int, default=None, help="Test image b (default: the first of another class than a).")
@third_point_options
@click.option("--resolution", type=int, default=96, show_default=True)
@click.option("--limit-train", type=int, default=None, help="Use only the first N training inputs.")
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--fps", type=float, default=2.0, show_default=True)
@click.option("--option", "model_options", multiple=True, metavar="KEY=VALUE", help="Model option, e.g. widths=[64].")
@click.option("--out", default="train.gif", show_default=True, help="Animation file: .gif, or .mp4 when ffmpeg is installed.")
@run_options
def animate(model_name: str, data_name: str, epochs: int, index: int, other: int | None, third: str, size: float | None,
            perturbation_norm: str, resolution: int,
            limit_train: int | None, batch_size: int, lr: float, fps: float, model_options: tuple[str, ...], out: str,
            seed: int, device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Train MODEL on a dataset and record one fixed slice (a, b = two test images, c) after every epoch."""
    import torch

    from advlab import data as data_mod
    from advlab.cli.third_point_spec import parse_third_point
    from advlab.models import build, family
    from advlab.train import fit
    from advlab.viz import SliceRecorder
    from advlab.viz.third_points import MODEL_DEPENDENT, third_point

    path = Path(out)
    if path.suffix.lower() not in {".gif", ".mp4"}:
        raise ValueError(f"--out must end in .gif or .mp4, got {path.name!r}")
    family(model_name)
    ds = data_mod.load(data_name, data_dir=data_dir, quiet=quiet, limit_train=limit_train)
    a = _image(ds, index)
    if other is None:
        others = torch.nonzero(ds.y_test != ds.y_test[index]).flatten()
        if len(others) == 0:
            raise ValueError("animate: the test set has a single class; pass --other")
        other = int(others[0])
    b = _image(ds, other)
    model = build(model_name, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=seed,
                  **parse_options(model_options))
    strategy = parse_third_point(third, data=ds, size=size, norm=perturbation_norm)
    if isinstance(strategy, MODEL_DEPENDENT):
        raise ValueError("animate: the third point must not depend on the model being trained (use grey, random-image, "
                         "random-perturbation or image:INDEX)")
    c = third_point(strategy, model, a, b, generator=torch.Generator().manual_seed(seed))
    recorder = SliceRecorder(a, b, c, resolution)
    fit(model, ds, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device, callbacks=[recorder], quiet=quiet)
    anim = recorder.animation()
    anim.title = f"{model_name} on {data_name}: a = test {index}, b = test {other}, c = {third}"
    written = anim.save_mp4(path, fps=fps) if path.suffix.lower() == ".mp4" else anim.save_gif(path, fps=fps)
    click.echo(f"{len(recorder.frames)} frames (epochs 0..{epochs}); wrote {written}")
