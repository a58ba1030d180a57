"""Benchmark: queries and seconds per fooling image for each strategy of ``advlab.fooling`` on MNIST cnn-small.

Model: ``common.mnist_cnn_small`` (one epoch, cached). Every strategy gets every class (10 images), required
p ≥ 0.99 and the same budget of model evaluations per class (``--budget``, default 2000). Reported per strategy:
fraction of classes reached (re-measured by the model), mean and median queries per image, wall and CPU seconds
per image, and — where the search's model evaluations can be replayed — the floor: the model's own forward
(+ backward for gradient strategies) passes for the same number of evaluations in the same batch sizes, so
strategy ÷ floor is the price of everything that is not the model (CPPN drawing, mutation, bookkeeping).

Run: ``python -m benchmarks.fooling [--budget 2000] [--repeats 1] [--threads 1] [--data-dir ../shared/data]``.
Writes/replaces its section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

import torch
from benchmarks import common

from advlab.fooling import FoolingResult, make_strategy
from advlab.models import Model

SECTION = "fooling"
STRATEGIES = ("ascent", "ascent-nes", "evolve-direct", "evolve-cppn", "cma", "invert")
OPTIONS: dict[str, dict[str, Any]] = {"ascent-nes": {"tile": 4, "lr": 0.3}}  # as rubbish-mnist runs it


def _floor(model: Model, name: str, result: FoolingResult) -> Callable[[], Any] | None:
    """The model's own passes for the evaluations ``result`` spent, in the same batch sizes (None: not replayable)."""
    shape = tuple(model.input_shape)
    if name == "ascent":
        steps, batch = int(result.steps.max()) + 1, len(result)
        x = torch.rand(batch, *shape, requires_grad=True)
        return lambda: [torch.autograd.grad(model(x).logsumexp(1).sum(), x) for _ in range(steps)]
    if name == "ascent-nes":
        steps, batch = int(result.steps.max()) + 1, len(result) * 41
        x = torch.rand(batch, *shape)
        return lambda: [model(x) for _ in range(steps)]
    if name.startswith("evolve-"):
        total = int(result.extra["total_queries"])
        x = torch.rand(100, *shape)
        return lambda: [model(x) for _ in range(total // 100)]
    return None


def main() -> None:
    parser = common.add_common_args(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--budget", type=int, default=2000, help="model evaluations per class for every strategy")
    args = parser.parse_args()
    common.apply_threads(args.threads if args.threads is not None else 1)
    malloc = common.steady_malloc()
    model, data = common.mnist_cnn_small(args.data_dir, quiet=args.quiet)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    reference = data.x_train
    rows, floors = [], {}
    with torch.no_grad():
        accuracy = float((model.predict(data.x_test[:1000]) == data.y_test[:1000]).float().mean())
    # Only the inversion needs the training images (to locate the data in hidden space); the others get no
    # reference, so the timings hold the search alone, not the nearest-training-image distances.
    runs = {name: (lambda n=name: make_strategy(n, budget=args.budget, **OPTIONS.get(n, {}))(
                model, required=0.99, seed=0, reference=reference if n == "invert" else None))
            for name in STRATEGIES}  # fmt: skip
    timings = common.interleaved_timings(runs, repeats=args.repeats)
    for name in STRATEGIES:
        t = timings[name]
        result: FoolingResult = t.result
        floor_fn = _floor(model, name, result)
        if floor_fn is not None:
            with torch.enable_grad():
                floors[name] = common.interleaved_timings({"floor": floor_fn}, repeats=args.repeats)["floor"]
        n = len(result)
        q = [int(v) for v in result.queries]
        row = {
            "strategy": name, "classes reached": f"{int(result.success.sum())}/{n}",
            "mean queries / image": f"{statistics.mean(q):.0f}", "median queries / image": f"{statistics.median(q):.0f}",
            "wall s / image": f"{t.wall / n:.3f}", "CPU s / image": f"{t.cpu / n:.3f}",
            "÷ floor (CPU)": f"{t.cpu / floors[name].cpu:.2f}×" if name in floors else "—",
            "lowest p(target)": f"{float(result.target_confidences.min()):.4f}",
        }  # fmt: skip
        rows.append(row)
        print(row)
    body = (
        "## Fooling strategies: queries and seconds per image (from `benchmarks/fooling.py`)\n\n"
        f"Machine: {common.machine()}. Model: MNIST cnn-small, 1 epoch (clean accuracy {accuracy:.4f} on 1000 test "
        f"images). All 10 classes, required p ≥ 0.99, budget {args.budget} model evaluations per class for every "
        f"strategy; best of {args.repeats} interleaved round(s). {malloc}\n\n"
        "Queries: model evaluations spent on that image until it reached p ≥ 0.99 (or the whole budget): a gradient "
        "step counts one forward + backward, an NES step 41 forwards (20 antithetic pairs + the point, on a 7×7 coarse image: tile 4, lr 0.3); MAP-Elites "
        "scores each child for all classes at once, so an image's count is the search's total when that class first "
        "got there. Seconds per image: the whole search ÷ 10. Floor: the model's own passes for the same evaluations "
        "in the same batch sizes; ÷ floor is the price of the rest (CPPN drawing, mutation, bookkeeping). The inversion's "
        "time includes embedding the 60 000 training images once (to place the far hidden points).\n\n"
        + common.markdown_table(rows) + "\n"
    )
    if not args.no_write:
        common.write_section(common.RESULTS, SECTION, body)
    print(body)


if __name__ == "__main__":
    main()
