"""Benchmark: gradient attacks on MNIST ``cnn-small``, side by side with the floor and the peers.

One run, one model (cnn-small, one epoch, cached in benchmarks/out/), ``--n`` MNIST
test images, CPU:

* PGD-40 L∞ (ε 0.3, step 0.01, random start, one restart): advlab's time ÷ the floor
  (the model's own 40 forward+backward passes on the same batch, input gradient
  only; target ≤ 1.10×), ÷ torchattacks ``PGD`` and ÷ Foolbox ``LinfPGD`` with the
  same settings; robust accuracy (target: within 1 point of torchattacks') and
  median distances of the successful adversarials.
* DeepFool L2 (50 steps, overshoot 0.02, all 10 classes): advlab batched over the
  whole batch against torchattacks ``DeepFool`` (one image at a time), which is timed
  on the first ``--deepfool-peer-n`` images and scaled per image; target ≥ 20× faster
  per image and median L2 within 10 % on the same images.
* If ``benchmarks/attack_curves.py`` exists: its FMN ε-curve case (``run_fmn_curve``).

Timings are best of ``--repeats`` rounds, contenders alternating inside each round,
as wall-clock and as the process's CPU time; glibc's malloc thresholds are fixed first
(``common.steady_malloc``) so page-fault noise hits no contender. On a shared machine
run with ``--threads 1``.
Run: ``python -m benchmarks.attacks [--n 1000] [--repeats 3] [--threads 1] [--deepfool-peer-n 30] [--skip-fmn]``.
Writes/replaces the ``attacks`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from benchmarks import common

from advlab import attacks
from advlab._io import write_json
from advlab.models import Model

SECTION = "attacks"
EPS, STEP, STEPS = 0.3, 0.01, 40
SMALL_EPS = 0.1
DEEPFOOL = {"steps": 50, "overshoot": 0.02}


def floor(model: Model, x: torch.Tensor, y: torch.Tensor, steps: int = STEPS) -> Callable[[], None]:
    """The model's own ``steps`` forward+backward passes on the batch, gradient for the input only."""

    def run() -> None:
        for _ in range(steps):
            xr = x.clone().requires_grad_(True)
            torch.autograd.grad(F.cross_entropy(model(xr), y, reduction="sum"), xr)

    return run


def pgd_contenders(
    model: Model, x: torch.Tensor, y: torch.Tensor, eps: float = EPS
) -> dict[str, Callable[[], torch.Tensor | None]]:
    """Callables returning PGD adversarials: advlab, the floor (None) and whichever peers are installed."""
    ours = attacks.PGD(steps=STEPS, stepsize=STEP, random_start=True)
    runs: dict[str, Callable[[], torch.Tensor | None]] = {
        "advlab": lambda: ours(model, x, y, eps=eps, seed=0).adversarials[0],
        "floor": lambda: floor(model, x, y)(),
    }
    try:
        import torchattacks

        ta = torchattacks.PGD(model, eps=eps, alpha=STEP, steps=STEPS, random_start=True)
        runs["torchattacks"] = lambda: ta(x, y)
    except ImportError:
        pass
    try:
        import foolbox as fb

        fmodel = fb.PyTorchModel(model, bounds=(0, 1))
        fb_pgd = fb.attacks.LinfPGD(abs_stepsize=STEP, steps=STEPS, random_start=True)
        runs["foolbox"] = lambda: fb_pgd(fmodel, x, y, epsilons=eps)[1]
    except ImportError:
        pass
    return runs


def summary(model: Model, x: torch.Tensor, y: torch.Tensor, adv: torch.Tensor) -> dict[str, float]:
    """Robust accuracy, and median L∞/L2 of the adversarials that fool a correctly classified input."""
    correct = model.predict(x) == y
    pred = model.predict(adv)
    fooled = correct & (pred != y)
    delta = (adv - x).flatten(1)
    med = (lambda d: d[fooled].median().item() if fooled.any() else math.nan)
    return {
        "robust_accuracy": (pred == y).float().mean().item(),
        "median_linf": med(delta.abs().amax(dim=1)),
        "median_l2": med(delta.norm(dim=1)),
        "fooled": fooled.float().sum().item() / max(1, int(correct.sum())),
    }


def pgd_case(model: Model, x: torch.Tensor, y: torch.Tensor, repeats: int) -> dict[str, Any]:
    floor(model, x, y, steps=3)()  # warm-up: the first passes at a new batch shape pay one-off set-up costs
    timed = common.interleaved_timings(pgd_contenders(model, x, y), repeats)
    out: dict[str, Any] = {"seconds": {k: v.wall for k, v in timed.items()}, "cpu_seconds": {k: v.cpu for k, v in timed.items()}}
    out["summary"] = {k: summary(model, x, y, v.result) for k, v in timed.items() if k != "floor"}
    # At ε 0.3 a standard MNIST model is at 0 % for everyone; ε 0.1 (same step, one untimed run
    # each) tells whether the attacks really agree.
    small = {k: fn() for k, fn in pgd_contenders(model, x, y, SMALL_EPS).items() if k != "floor"}
    out["small_eps_accuracy"] = {k: summary(model, x, y, adv)["robust_accuracy"] for k, adv in small.items()}
    return out


def deepfool_case(model: Model, x: torch.Tensor, y: torch.Tensor, peer_n: int, repeats: int) -> dict[str, Any]:
    ours_attack = attacks.DeepFool("l2", candidates=10, **DEEPFOOL)
    timing = common.interleaved_timings({"ours": lambda: ours_attack(model, x, y)}, repeats)["ours"]
    seconds, ours = timing.wall, timing.result
    correct = model.predict(x) == y
    d_ours = ours.min_distances
    out: dict[str, Any] = {
        "n": len(x),
        "ours_s": seconds,
        "ours_per_image_s": seconds / len(x),
        "ours_cpu_s": timing.cpu,
        "ours_median_l2": d_ours[correct & torch.isfinite(d_ours)].median().item(),
        "ours_fooled": torch.isfinite(d_ours)[correct].float().mean().item(),
    }
    try:
        import torchattacks
    except ImportError:
        return out
    xs, ys = x[:peer_n], y[:peer_n]
    peer = torchattacks.DeepFool(model, **DEEPFOOL)
    peer_timing = common.interleaved_timings({"theirs": lambda: peer(xs, ys)}, 1)["theirs"]
    theirs, their_s = peer_timing.result, peer_timing.wall
    both = correct[:peer_n] & (model.predict(theirs) != ys) & torch.isfinite(d_ours[:peer_n])
    their_l2 = (theirs - xs).flatten(1).norm(dim=1)
    out.update(
        peer_n=peer_n,
        theirs_s=their_s,
        theirs_per_image_s=their_s / peer_n,
        speedup=(their_s / peer_n) / (seconds / len(x)),
        speedup_cpu=(peer_timing.cpu / peer_n) / (timing.cpu / len(x)),
        theirs_fooled=(model.predict(theirs) != ys)[correct[:peer_n]].float().mean().item(),
        subset_both=int(both.sum()),
        subset_ours_median_l2=d_ours[:peer_n][both].median().item(),
        subset_theirs_median_l2=their_l2[both].median().item(),
    )
    return out


def fmn_case(model: Model, x: torch.Tensor, y: torch.Tensor, n: int) -> dict[str, Any] | None:
    """The FMN ε-curve case of ``benchmarks/attack_curves.py``, when that benchmark exists."""
    try:
        curves = importlib.import_module("benchmarks.attack_curves")
    except ImportError:
        return None
    run = getattr(curves, "run_fmn_curve", None)
    return None if run is None else run(model, x[:n], y[:n])


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _pgd_lines(pgd: dict[str, Any]) -> list[str]:
    sec, cpu, summ = pgd["seconds"], pgd["cpu_seconds"], pgd["summary"]
    lines = [
        f"### PGD-{STEPS} L∞, ε {EPS}, step {STEP}, random start, 1 restart",
        "",
        "Wall: best wall-clock time (`time.perf_counter`); CPU: best user + system CPU time of the process "
        "(`getrusage`), which excludes waiting for a core on this shared machine.",
        "",
        "| contender | wall s | advlab ÷ it (wall) | CPU s | advlab ÷ it (CPU) | robust acc. | median L∞ | median L2 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("advlab", "floor", "torchattacks", "foolbox"):
        if name not in sec:
            lines.append(f"| {name} | not installed | | | | | | |")
            continue
        s = summ.get(name)
        acc, mi, m2 = (f"{s[k]:.4f}" for k in ("robust_accuracy", "median_linf", "median_l2")) if s else ("—",) * 3
        label = "floor (40 fwd+bwd, input grad)" if name == "floor" else name
        lines.append(
            f"| {label} | {sec[name]:.2f} | {sec['advlab'] / sec[name]:.3f}× | {cpu[name]:.2f} | "
            f"{cpu['advlab'] / cpu[name]:.3f}× | {acc} | {mi} | {m2} |"
        )
    ratio, ratio_cpu = sec["advlab"] / sec["floor"], cpu["advlab"] / cpu["floor"]
    lines += [
        "",
        f"* advlab ÷ floor = {ratio:.3f}× wall, {ratio_cpu:.3f}× CPU (target ≤ 1.10×): wall {_met(ratio <= 1.10)}, "
        f"CPU {_met(ratio_cpu <= 1.10)}.",
    ]
    small = pgd["small_eps_accuracy"]
    if "torchattacks" in summ:
        gap = abs(summ["advlab"]["robust_accuracy"] - summ["torchattacks"]["robust_accuracy"]) * 100
        gap_small = abs(small["advlab"] - small["torchattacks"]) * 100
        lines.append(
            f"* robust accuracy within {gap:.1f} points of torchattacks' at ε {EPS}, {gap_small:.1f} points at ε "
            f"{SMALL_EPS} (target ≤ 1): {_met(max(gap, gap_small) <= 1.0)}."
        )
    lines.append(
        f"* robust accuracy at ε {SMALL_EPS} (same step and steps, one run each): "
        + ", ".join(f"{k} {v:.4f}" for k, v in small.items())
        + "."
    )
    return lines


def _deepfool_lines(df: dict[str, Any]) -> list[str]:
    lines = [
        f"### DeepFool L2, {DEEPFOOL['steps']} steps, overshoot {DEEPFOOL['overshoot']}, all 10 classes",
        "",
        f"* advlab (batched): {df['ours_s']:.2f} s for {df['n']} images = {df['ours_per_image_s'] * 1e3:.2f} ms/image; "
        f"fooled {df['ours_fooled']:.1%} of correct inputs; median L2 {df['ours_median_l2']:.4f}.",
    ]
    if "theirs_s" not in df:
        return lines + ["* torchattacks not installed: no comparison."]
    rel = df["subset_ours_median_l2"] / df["subset_theirs_median_l2"] - 1
    return lines + [
        f"* torchattacks (one image at a time) timed on the first {df['peer_n']} images only (too slow for "
        f"{df['n']}), scaled per image: {df['theirs_s']:.1f} s = {df['theirs_per_image_s'] * 1e3:.0f} ms/image; "
        f"fooled {df['theirs_fooled']:.1%} of correct inputs.",
        f"* speed-up per image: {df['speedup']:.0f}× wall, {df['speedup_cpu']:.0f}× CPU (target ≥ 20×): "
        f"{_met(min(df['speedup'], df['speedup_cpu']) >= 20)}.",
        f"* median L2 on the {df['subset_both']} of those images both fool: advlab {df['subset_ours_median_l2']:.4f}, "
        f"torchattacks {df['subset_theirs_median_l2']:.4f} ({rel:+.1%}; target within ±10 %): {_met(abs(rel) <= 0.10)}.",
    ]


def _fmn_lines(fmn: dict[str, Any]) -> list[str]:
    ratio = fmn["fmn_curve_s"] / fmn["fmn_plain_s"]
    lines = [
        f"### FMN-L∞ ε-curve (from `benchmarks/attack_curves.py`, {fmn.get('n')} images)",
        "",
        f"* one run answering {len(fmn.get('eps', []))} ε: {fmn['fmn_curve_s']:.2f} s; plain run {fmn['fmn_plain_s']:.2f} s; "
        f"ratio {ratio:.2f}× (target ≤ 1.5×): {_met(ratio <= 1.5)}.",
    ]
    if "foolbox_over_curve" in fmn:
        lines.append(f"* Foolbox LinfPGD, one run per ε: {fmn['foolbox_pgd_s']:.2f} s = {fmn['foolbox_over_curve']:.1f}× our curve.")
    return lines


def report(res: dict[str, Any], clean: float) -> str:
    lines = [
        "## Gradient attacks (`benchmarks/attacks.py`)",
        "",
        f"Machine: {res['machine']}. Model: MNIST cnn-small, 1 epoch ({res['n']} test images, clean accuracy "
        f"{clean:.4f}). Best of {res['repeats']} interleaved rounds. Memory: {res['malloc']} (see "
        "`common.steady_malloc`: without it, page faults add 0–40 % system time at random, to every contender).",
        "",
        *_pgd_lines(res["pgd"]),
    ]
    if res.get("deepfool"):
        lines += ["", *_deepfool_lines(res["deepfool"])]
    if res.get("fmn"):
        lines += ["", *_fmn_lines(res["fmn"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--n", type=int, default=1000, help="MNIST test images")
    parser.add_argument("--deepfool-peer-n", type=int, default=30, help="images for torchattacks' per-image DeepFool")
    parser.add_argument("--fmn-n", type=int, default=500, help="images for the FMN curve case")
    parser.add_argument("--skip-fmn", action="store_true", help="leave out the FMN ε-curve case")
    parser.add_argument("--skip-deepfool", action="store_true", help="leave out the DeepFool case")
    parser.add_argument("--default-malloc", action="store_true", help="keep glibc's adaptive malloc thresholds")
    args = parser.parse_args(argv)
    common.apply_threads(args.threads)
    malloc = "" if args.default_malloc else common.steady_malloc()
    model, data = common.mnist_cnn_small(args.data_dir, args.quiet)
    model.eval()
    for p in model.parameters():  # every contender computes input gradients only
        p.requires_grad_(False)
    x, y = data.x_test[: args.n], data.y_test[: args.n]
    clean = (model.predict(x) == y).float().mean().item()
    res: dict[str, Any] = {"machine": common.machine(), "malloc": malloc or "glibc defaults", "n": len(x), "repeats": args.repeats}
    res["pgd"] = pgd_case(model, x, y, args.repeats)
    if not args.skip_deepfool:
        res["deepfool"] = deepfool_case(model, x, y, args.deepfool_peer_n, min(args.repeats, 2))
    if not args.skip_fmn:
        res["fmn"] = fmn_case(model, x, y, args.fmn_n)
    text = report(res, clean)
    print(text)
    if args.write and not args.no_write:
        common.write_section(common.RESULTS, SECTION, text)
    write_json(common.OUT / "attacks.json", res)
    return res


if __name__ == "__main__":
    main()
