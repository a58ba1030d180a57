"""Benchmark: an accuracy-versus-ε curve from one minimisation run, against Foolbox's one run per ε.

MNIST ``cnn-small`` (one epoch of standard training, cached), ``--n`` test images,
ten L∞ radii. Measured side by side in one run:

* advlab FMN-L∞ answering the 10-point curve (``eps=[…]``, one attack run per batch)
  ÷ one plain FMN-L∞ run (``eps=None``): the price of the curve; target ≤ 1.5×;
* one plain FMN run ÷ the floor (the model's forward+backward for the same steps);
* Foolbox's way: ``LinfPGD`` (40 steps, its defaults) called with the ten ε, which runs
  the attack once per ε; its time ÷ our curve's time;
* robust accuracy per ε from both (each is an upper bound on the true robust accuracy:
  FMN's from its minimal adversarials, PGD's from ten fixed-ε attacks).

Run: ``python -m benchmarks.attack_curves [--n 500] [--steps 100] [--repeats 3] [--threads K] [--data-dir ../shared/data]``.
Writes/replaces its section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
from benchmarks import common

from advlab.attacks import FMN
from advlab.models import Model

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "attack_curves"
DEFAULT_EPS = [round(0.02 * i, 2) for i in range(1, 11)]  # 0.02 … 0.20: where a standard MNIST CNN breaks


def _foolbox_pgd_curve(model: Model, x: torch.Tensor, y: torch.Tensor, eps: list[float]) -> tuple[float, list[float]] | None:
    """Foolbox LinfPGD over the ε list (one attack run per ε inside Foolbox); None without Foolbox."""
    try:
        import foolbox as fb
    except ImportError:
        return None
    lo, hi = float(model.bounds.lower.min()), float(model.bounds.upper.max())
    fmodel = fb.PyTorchModel(model.eval(), bounds=(lo, hi), device=model.device)
    attack = fb.attacks.LinfPGD()
    t0 = time.perf_counter()
    _, _, success = attack(fmodel, x.to(model.device), y.to(model.device), epsilons=eps)
    seconds = time.perf_counter() - t0
    # Foolbox counts an already misclassified input as a success: robust = not success.
    return seconds, (1 - success.float().mean(dim=1)).cpu().tolist()


def _gradient_floor(model: Model, x: torch.Tensor, steps: int) -> None:
    """The floor of any gradient attack: ``steps`` forward+backward passes of the model on x."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    xa = x.clone().requires_grad_(True)
    for _ in range(steps):
        torch.autograd.grad(model(xa).max(dim=1).values.sum(), xa)


def run_fmn_curve(
    model: Model, x: torch.Tensor, y: torch.Tensor, eps: list[float] | None = None, *, steps: int = 100, repeats: int = 2
) -> dict[str, Any]:
    """Time FMN-L∞ answering a whole ε curve from one run, against one plain run and Foolbox's per-ε PGD."""
    eps = list(DEFAULT_EPS if eps is None else eps)
    attack = FMN(norm="linf", steps=steps)
    # Interleaved rounds, best of each, so a busy machine slows both sides alike.
    timed = common.interleaved(
        {
            "floor": lambda: _gradient_floor(model, x, steps),
            "plain": lambda: attack(model, x, y, seed=0),
            "curve": lambda: attack(model, x, y, eps=eps, seed=0),
        },
        repeats,
    )
    floor_s, (plain_s, _), (curve_s, curve) = timed["floor"][0], timed["plain"], timed["curve"]
    found = curve.min_distances[torch.isfinite(curve.min_distances)]
    out: dict[str, Any] = {
        "n": len(x),
        "eps": eps,
        "fmn_steps": steps,
        "clean_accuracy": curve.clean_accuracy,
        "floor_s": floor_s,
        "plain_over_floor": plain_s / floor_s,
        "fmn_plain_s": plain_s,
        "fmn_curve_s": curve_s,
        "curve_over_plain": curve_s / plain_s,
        "fmn_robust_accuracy": curve.robust_accuracy.tolist(),
        "fmn_median_linf": float(found.median()) if found.numel() else float("nan"),
    }
    pgd = _foolbox_pgd_curve(model, x, y, eps)
    if pgd is not None:
        out["foolbox_pgd_s"], out["foolbox_pgd_robust_accuracy"] = pgd
        out["foolbox_over_curve"] = pgd[0] / curve_s
    return out


def _report(res: dict[str, Any]) -> str:
    lines = [
        "## Accuracy-versus-ε curve from one minimisation run (`benchmarks/attack_curves.py`)",
        "",
        f"Machine: {common.machine()}. Model: MNIST cnn-small (one epoch, `benchmarks.common`), "
        f"first {res['n']} test images, clean accuracy {res['clean_accuracy']:.4f}; FMN-L∞ {res['fmn_steps']} steps.",
        "",
        f"* FMN-L∞ answering the 10-point curve in one run: {res['fmn_curve_s']:.2f} s; one plain run: "
        f"{res['fmn_plain_s']:.2f} s; **ratio {res['curve_over_plain']:.2f}×** (target ≤ 1.5×).",
        f"* Floor (the model's own {res['fmn_steps']} forward+backward passes): {res['floor_s']:.2f} s; "
        f"plain FMN ÷ floor {res['plain_over_floor']:.2f}×.",
    ]
    if "foolbox_pgd_s" in res:
        lines.append(
            f"* Foolbox `LinfPGD` (its defaults: 40 steps, random start), one run per ε: {res['foolbox_pgd_s']:.2f} s, "
            f"**{res['foolbox_over_curve']:.1f}× our curve's time**."
        )
    lines += ["", "| ε | robust acc. (FMN, one run) | robust acc. (Foolbox PGD, per ε) |", "|---|---|---|"]
    pgd = res.get("foolbox_pgd_robust_accuracy") or [float("nan")] * len(res["eps"])
    for e, a, b in zip(res["eps"], res["fmn_robust_accuracy"], pgd, strict=True):
        lines.append(f"| {e:g} | {a:.4f} | {b:.4f} |")
    lines += ["", f"Median minimal L∞ found by FMN: {res['fmn_median_linf']:.4f}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser)
    parser.add_argument("--n", type=int, default=500, help="number of test images")
    parser.add_argument("--steps", type=int, default=100, help="FMN steps")
    args = parser.parse_args(argv)
    common.apply_threads(args.threads)
    model, data = common.mnist_cnn_small(args.data_dir, args.quiet)
    x, y = data.x_test[: args.n], data.y_test[: args.n]
    res = run_fmn_curve(model, x, y, steps=args.steps, repeats=args.repeats)
    text = _report(res)
    print(text)
    if args.write and not args.no_write:
        common.write_section(RESULTS, SECTION, text)
    return res


if __name__ == "__main__":
    main()
