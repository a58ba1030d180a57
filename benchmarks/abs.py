"""Benchmark: ABS inference, advlab (batched) against a straightforward per-image implementation.

Both run the authors' procedure (bank of 8,000 latents decoded once per class, best
bank latent per class, 50 iterations of Adam lr 0.05 on ‖z‖ ≤ 5, ELBO scores):

* advlab ``ABSNet.infer``: all inputs and classes at once, bank distances as one
  matrix product, the ten decoders as one grouped network; faithful and fast modes;
* ``advlab.models.abs_reference.reference_elbos``: one image at a time, the bank's
  ELBOs by broadcasting, each class's decoder called in turn (as the authors' code);
  timed on the first ``--n-ref`` images and scaled per image.

The bank's decoding (once per model) is timed separately and excluded from both.
Agreement: the ELBOs of both on the reference images (max abs difference).
Targets (issue 12): advlab faithful ≥ 20× the per-image throughput and ≥ 5 images/s on 2 cores.

Run: ``python -m benchmarks.abs [--model runs/abs-mnist/model.safetensors] [--n 100] [--n-ref 5] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from benchmarks import common

from advlab.models import build, load
from advlab.models.abs import MODES, abs_net
from advlab.models.abs_reference import reference_elbos

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "abs"


def main() -> None:
    parser = common.add_common_args(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--model", type=Path, default=Path("runs/abs-mnist/model.safetensors"))
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--n-ref", type=int, default=5)
    args = parser.parse_args()
    common.apply_threads(args.threads if args.threads is not None else 2)
    malloc = common.steady_malloc()
    header = common.machine()
    if args.model.is_file():
        model, source = load(args.model), f"trained ABS from {args.model}"
    else:
        torch.manual_seed(0)
        model, source = build("abs", input_shape=(1, 28, 28), classes=10), "untrained ABS (timing does not depend on the weights)"
    net = abs_net(model.eval())
    x, y = common.mnist_test(args.n, args.data_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    _, flat, _ = net._decoded_bank()
    bank_imgs = list(flat.reshape(net.num_classes, len(net.bank), *x.shape[1:]))  # the same cache, per class
    bank_wall, bank_cpu = time.perf_counter() - t0, time.process_time() - c0
    xr = x[: args.n_ref]
    runs = {
        "advlab faithful": lambda: net.infer(x, settings=MODES["faithful"]).elbos,
        "advlab fast": lambda: net.infer(x, settings=MODES["fast"]).elbos,
        "per-image (authors' procedure)": lambda: reference_elbos(net, xr, MODES["faithful"], bank_imgs),
    }
    t = common.interleaved_timings(runs, args.repeats)
    n_of = {"advlab faithful": len(x), "advlab fast": len(x), "per-image (authors' procedure)": len(xr)}
    ref = t["per-image (authors' procedure)"]
    ref_ips, ref_cps = len(xr) / ref.wall, len(xr) / ref.cpu
    rows = []
    for name, tm in t.items():
        ips, cps = n_of[name] / tm.wall, n_of[name] / tm.cpu
        rows.append({"contender": name, "images": n_of[name], "wall s": f"{tm.wall:.2f}", "images/s (wall)": f"{ips:.2f}",
                     "× per-image (wall)": f"{ips / ref_ips:.1f}×", "CPU s": f"{tm.cpu:.2f}",
                     "images per CPU-s": f"{cps:.2f}", "× per-image (CPU)": f"{cps / ref_cps:.1f}×"})
    faithful, fast = t["advlab faithful"].result, t["advlab fast"].result
    diff = (faithful[: len(xr)] - ref.result).abs().max().item()
    agree_fast = (faithful.argmin(1) == fast.argmin(1)).float().mean().item()
    acc_f = (faithful.argmin(1) == y).float().mean().item()
    acc_fast = (fast.argmin(1) == y).float().mean().item()
    speed = (len(x) / t["advlab faithful"].wall) / ref_ips
    ips = len(x) / t["advlab faithful"].wall
    text = "\n".join([
        "## ABS inference: advlab batched vs per-image (issue 12)",
        "",
        f"Machine: {header}. {malloc}. Model: {source}. {args.n} MNIST test images (per-image: the first {len(xr)}, "
        f"scaled per image). Best of {args.repeats} interleaved rounds. Bank decoding (once per model, excluded): "
        f"{bank_wall:.1f} s wall, {bank_cpu:.1f} s CPU.",
        "",
        common.markdown_table(rows),
        "",
        f"* advlab faithful ÷ per-image: {speed:.1f}× wall (target ≥ 20×): {'met' if speed >= 20 else 'NOT met'}.",
        f"* advlab faithful throughput: {ips:.2f} images/s wall with {torch.get_num_threads()} threads "
        f"(target ≥ 5 on 2 cores): {'met' if ips >= 5 else 'NOT met'}.",
        f"* ELBOs of advlab faithful vs per-image on the same {len(xr)} images: max |Δ| = {diff:.2e}.",
        f"* fast mode (top-3 classes by bank ELBO get the 50 iterations) agrees with faithful on {100 * agree_fast:.1f}% "
        f"of predictions; accuracy faithful {100 * acc_f:.1f}%, fast {100 * acc_fast:.1f}% on these {len(x)} images.",
    ])
    print(text)
    if not args.no_write:
        common.write_section(RESULTS, SECTION, text)


if __name__ == "__main__":
    main()
