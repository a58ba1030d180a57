"""Benchmark: a 512² decision-region slice of MNIST ``cnn-small`` (Świrszczyński et al.'s pictures).

The plane goes through a test image a, its PGD adversarial b (L∞ ε = 0.3) and a uniformly
random image c. Measured side by side in one run:

* ``compute_slice`` time ÷ the floor: the model's own batched inference (forward + softmax,
  same batch size, inputs already materialised) over exactly the slice's feasible points;
* adaptive mode: its evaluations as a share of the feasible points, its time, and the share
  of pixels whose label equals the full computation's.

Run: ``python -m benchmarks.slices [--resolution 512] [--data-dir ../shared/data] [--figures DIR]``.
Writes/replaces its section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import advlab
from advlab._io import write_text
from advlab.data import load
from advlab.models import Model, build
from advlab.train import fit
from advlab.viz import SliceDisplay, compute_slice

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
_ENV_DATA = os.environ.get("ADVLAB_DATA", "").strip()
DEFAULT_DATA_DIR = Path(_ENV_DATA).expanduser() if _ENV_DATA else Path(__file__).resolve().parents[2] / "shared" / "data"
SECTION = "slices"


def _model_cache() -> Path:
    root = os.environ.get("ADVLAB_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "advlab") / "bench" / "mnist-cnn-small-1epoch.safetensors"


def mnist_cnn(data_dir: Path | None, quiet: bool) -> tuple[Model, Any]:
    """The cnn-small MNIST model: one epoch of standard training, cached on disk after the first run."""
    data = load("mnist", data_dir=data_dir, quiet=quiet)
    path = _model_cache()
    if path.is_file():
        return advlab.load(path), data
    model = build("cnn-small", input_shape=data.input_shape, classes=data.class_names)
    fit(model, data, epochs=1, batch_size=128, seed=0, quiet=quiet)
    advlab.save(model, path)
    return model, data


def adversarial(model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PGD (L∞, ε = 0.3, 40 steps) when advlab has it, else one signed-gradient step of 0.3."""
    try:
        from advlab.attacks import PGD

        return PGD("linf", steps=40)(model, x, y, eps=0.3, seed=0).adversarials[0]
    except ImportError:
        xr = x.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(xr), y)
        (grad,) = torch.autograd.grad(loss, xr)
        return (x + 0.3 * grad.sign()).clamp(0, 1).detach()


def interleaved(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, float, Any]]:
    """Best wall and CPU (process) time of each run, rounds interleaved so load changes hit all alike."""
    best: dict[str, tuple[float, float, Any]] = {}
    for _ in range(repeats):
        for name, fn in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            out = fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            old = best.get(name, (float("inf"), float("inf"), None))
            best[name] = (min(old[0], wall), min(old[1], cpu), out)
    return best


def inference_floor(model: Model, points: torch.Tensor, batch_size: int) -> torch.Tensor:
    model.eval()
    with torch.inference_mode():
        return torch.cat([torch.softmax(model(points[i : i + batch_size]), 1) for i in range(0, len(points), batch_size)])


def write_section(path: Path, name: str, body: str) -> None:
    """The shared writer from benchmarks/common.py when it exists, else the same marker format locally."""
    try:
        from benchmarks import common

        writer = getattr(common, "write_section", None)
        if callable(writer):
            writer(path, name, body)
            return
    except ImportError:
        pass
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    write_text(path, text)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default $ADVLAB_DATA, else ../shared/data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--index", type=int, default=0, help="test image index")
    parser.add_argument("--more", type=int, default=4, help="pictures (test images index, index+1, …) for the adaptive check")
    parser.add_argument("--figures", type=Path, default=None, help="folder for PNGs of the slices")
    parser.add_argument("--write", action="store_true", help="also update RESULTS.md (default: print only)")
    parser.add_argument("--no-write", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    data_dir = args.data_dir if args.data_dir.is_dir() else None

    model, data = mnist_cnn(data_dir, args.quiet)
    model.eval()
    a, y = data.x_test[args.index : args.index + 1], data.y_test[args.index : args.index + 1]
    b = adversarial(model, a, y)
    c = torch.rand(a.shape, generator=torch.Generator().manual_seed(0))
    pred = model.predict(torch.cat([a, b, c])).tolist()
    res = args.resolution

    compute_slice(model, a[0], b[0], c[0], resolution=64)  # warm-up
    full = compute_slice(model, a[0], b[0], c[0], resolution=res)
    batch = max(256, min(65536, 2**22 // a[0].numel()))  # compute_slice's default batch
    ss, tt = full.grid()
    points = torch.as_tensor(full.to_input(ss[full.feasible], tt[full.feasible]), dtype=torch.float32).clamp_(0, 1)
    timed = interleaved(
        {
            "full": lambda: compute_slice(model, a[0], b[0], c[0], resolution=res),
            "floor": lambda: inference_floor(model, points, batch),
            "adaptive": lambda: compute_slice(model, a[0], b[0], c[0], resolution=res, adaptive=True),
        },
        args.repeats,
    )
    (t_full, cpu_full, full), (t_floor, cpu_floor, floor_probs), (t_adapt, cpu_adapt, adapt) = (timed[k] for k in ("full", "floor", "adaptive"))
    agree = float((adapt.labels == full.labels).mean())
    agree_feasible = float((adapt.labels == full.labels)[full.feasible].mean())
    floor_agree = float((floor_probs.argmax(1).numpy() == full.labels[full.feasible]).mean())

    # Adaptive mode over more pictures: the same construction through other test images.
    shares, agreements = [adapt.evaluations / full.evaluations], [agree]
    for idx in range(args.index + 1, args.index + args.more):
        xa, ya = data.x_test[idx : idx + 1], data.y_test[idx : idx + 1]
        xb = adversarial(model, xa, ya)
        xc = torch.rand(xa.shape, generator=torch.Generator().manual_seed(idx))
        f = compute_slice(model, xa[0], xb[0], xc[0], resolution=res)
        q = compute_slice(model, xa[0], xb[0], xc[0], resolution=res, adaptive=True)
        shares.append(q.evaluations / f.evaluations)
        agreements.append(float((q.labels == f.labels).mean()))

    metrics = {
        "resolution": res, "feasible_pixels": int(full.feasible.sum()), "feasible_share": float(full.feasible.mean()),
        "full_s": t_full, "floor_s": t_floor, "ratio": t_full / t_floor, "cpu_ratio": cpu_full / cpu_floor, "adaptive_s": t_adapt,
        "adaptive_evaluations": adapt.evaluations, "adaptive_eval_share": adapt.evaluations / full.evaluations,
        "adaptive_agreement": agree, "adaptive_min_agreement": min(agreements), "adaptive_max_eval_share": max(shares), "adaptive_agreement_feasible": agree_feasible, "floor_label_agreement": floor_agree,
    }
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)"
    rows = [
        ("picture", f"{res}² slice, MNIST cnn-small (1 epoch), test image #{args.index} (pred {pred[0]}), PGD-L∞ 0.3 adversarial (pred {pred[1]}), uniform random image (pred {pred[2]})"),
        ("feasible pixels (inside H)", f"{metrics['feasible_pixels']} ({metrics['feasible_share']:.1%})"),
        ("compute_slice, full", f"{t_full:.3f} s wall, {cpu_full:.3f} s CPU"),
        ("floor: batched inference over the same points", f"{t_floor:.3f} s wall, {cpu_floor:.3f} s CPU"),
        ("ratio full ÷ floor (target ≤ 1.2)", f"{metrics['ratio']:.2f}× wall, {metrics['cpu_ratio']:.2f}× CPU"),
        ("compute_slice, adaptive", f"{t_adapt:.3f} s wall ({t_adapt / t_floor:.2f}× floor), {cpu_adapt:.3f} s CPU"),
        ("full labels = floor's argmax", f"{floor_agree:.3%}"),
        ("adaptive evaluations (target ≤ 30 %)", f"{adapt.evaluations} = {metrics['adaptive_eval_share']:.1%} of full"),
        ("adaptive label agreement (target ≥ 99.5 %)", f"{agree:.3%} of pixels, {agree_feasible:.3%} of feasible pixels"),
        (f"adaptive over {len(shares)} pictures (test images #{args.index}–#{args.index + len(shares) - 1})",
         f"evaluations ≤ {max(shares):.1%} of full, label agreement ≥ {min(agreements):.3%} (mean {np.mean(agreements):.3%})"),
    ]
    table = "| quantity | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    body = f"## Decision-region slices (`benchmarks/slices.py`)\n\nMachine: {machine}; best of {args.repeats} interleaved rounds (wall and process CPU time).\n\n{table}\n"
    print(body)
    if args.write and not args.no_write:
        write_section(RESULTS, SECTION, body)
    if args.figures is not None:
        _figures(model, a[0], b[0], c[0], full, args.figures)
    return metrics


def _figures(model: Model, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, full: Any, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = ("image", "PGD adversarial", "random")
    SliceDisplay(full).plot(images=(a, b, c), anchor_names=names, title="global slice").figure_.savefig(folder / "slice_global.png", dpi=120, bbox_inches="tight")
    local = compute_slice(model, a, b, c, resolution=256, zoom=40.0, zoom_center="b")
    SliceDisplay(local).plot(images=(a, b, c), anchor_names=names, title="×40 around the adversarial").figure_.savefig(folder / "slice_zoom.png", dpi=120, bbox_inches="tight")
    plt.close("all")


if __name__ == "__main__":
    main()
