"""Benchmark: the cost of one epoch of each robust-training method, as a ratio to a standard epoch.

MNIST ``cnn-small`` on a training subset (10 000 images by default), batch 128, Adam,
ε = 0.3 (the MNIST radius of Madry et al. and Wong et al.), every run from the same
initial weights. Measured side by side in one run, *paired*: each method's epoch is
bracketed by two standard epochs and its ratio is its time ÷ the mean of those two, so a
load swing on a shared machine hits numerator and denominator alike; the table shows the
median over ``--repeats`` rounds (``--slow-repeats`` for the 40-step trainers).

* advlab: ``fit(..., method=…, epochs=1)`` ÷ ``fit(..., epochs=1)`` (standard training);
  targets: FastFGSM ≤ 2.2×, PGD-k ≤ 1.1·(k + 1)×;
* ART on the same net (``PyTorchClassifier`` wrapping ``model.net``): ``AdversarialTrainerFBFPyTorch``
  (Wong et al.'s fast training), ``AdversarialTrainer`` with FGSM (ratio 0.5: half of each
  batch replaced by adversarials) and ``AdversarialTrainerMadryPGD`` (k = 7 and 40), each
  ÷ ART's own standard epoch (``classifier.fit``); advlab ÷ ART compares median seconds.

Run: ``python -m benchmarks.training [--train 10000] [--repeats 3] [--threads N] [--data-dir ../shared/data] [--no-art]``.
Writes/replaces its section of ``benchmarks/RESULTS.md``. ``TQDM_DISABLE=1`` hides ART's progress bars.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from benchmarks.common import RESULTS, add_common_args, apply_threads, machine, markdown_table, write_section

from advlab.data import load
from advlab.models import Model, build
from advlab.train import FastFGSM, FGSMAdversarial, PGDAdversarial, TrainingMethod, fit

SECTION = "training"
EPS = 0.3
BATCH = 128
LR = 1e-3
PGD_STEPS = {7: 0.1, 40: 0.01}  # k → step size (Madry et al.: 40 steps of 0.01; k = 7: ≈ 2.5·ε/k)
SLOW = f"pgd-{max(PGD_STEPS)}"
Runner = Callable[[], float]


def _advlab_runner(initial: Model, x: torch.Tensor, y: torch.Tensor, method: TrainingMethod | None) -> Runner:
    def run() -> float:
        model = copy.deepcopy(initial)
        t0 = time.perf_counter()
        # probe=False: the method's own cost (fit's per-epoch robustness probe is timed separately).
        fit(model, (x, y), method=method, epochs=1, batch_size=BATCH, lr=LR, seed=0, quiet=True, probe=False)
        return time.perf_counter() - t0

    return run


def _probe_cost(initial: Model, x: torch.Tensor, y: torch.Tensor, method: TrainingMethod) -> dict[str, float]:
    """Seconds of one probe measurement (the default RobustProbe of ``method``) ÷ one standard epoch."""
    from advlab.train import RobustProbe

    attack, eps = method.probe_attack()
    probe = RobustProbe(attack, eps)
    model = copy.deepcopy(initial)
    standard = _advlab_runner(initial, x, y, None)()
    t0 = time.perf_counter()
    probe.accuracy(model, x[: probe.size], y[: probe.size], torch.Generator().manual_seed(0))
    seconds = time.perf_counter() - t0
    return {"size": probe.size, "seconds": seconds, "ratio": seconds / standard}


def _art_runners(initial: Model, x: torch.Tensor, y: torch.Tensor) -> dict[str, Runner]:
    """One callable per ART configuration; each builds a fresh classifier from the same initial weights."""
    import numpy as np
    from art.attacks.evasion import FastGradientMethod
    from art.defences.trainer import AdversarialTrainer, AdversarialTrainerFBFPyTorch, AdversarialTrainerMadryPGD
    from art.estimators.classification import PyTorchClassifier

    xs = x.numpy().astype(np.float32)
    onehot = np.eye(initial.num_classes, dtype=np.float32)[y.numpy()]

    def classifier() -> Any:
        net = copy.deepcopy(initial.net)
        return PyTorchClassifier(
            model=net, loss=torch.nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(net.parameters(), lr=LR),
            input_shape=initial.input_shape, nb_classes=initial.num_classes, clip_values=(0.0, 1.0), device_type="cpu",
        )

    def timed(make: Callable[[Any], Callable[[], None]]) -> Runner:
        def run() -> float:
            train = make(classifier())
            t0 = time.perf_counter()
            train()
            return time.perf_counter() - t0

        return run

    runners = {
        "standard": timed(lambda c: lambda: c.fit(xs, onehot, batch_size=BATCH, nb_epochs=1, verbose=False)),
        "fast": timed(lambda c: lambda: AdversarialTrainerFBFPyTorch(c, eps=EPS).fit(xs, onehot, batch_size=BATCH, nb_epochs=1)),
        "fgsm": timed(lambda c: lambda: AdversarialTrainer(c, FastGradientMethod(c, eps=EPS), ratio=0.5).fit(
            xs, onehot, batch_size=BATCH, nb_epochs=1)),
    }
    for k, step in PGD_STEPS.items():
        runners[f"pgd-{k}"] = timed(lambda c, k=k, step=step: lambda: AdversarialTrainerMadryPGD(
            c, nb_epochs=1, batch_size=BATCH, eps=EPS, eps_step=step, max_iter=k, num_random_init=1).fit(xs, onehot))
    return runners


def paired(who: str, runners: dict[str, Runner], repeats: int, slow_repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds and median paired ratio (÷ the standard epochs just before and after) per method."""
    seconds: dict[str, list[float]] = {k: [] for k in runners}
    ratios: dict[str, list[float]] = {k: [] for k in runners if k != "standard"}
    for r in range(repeats):
        before = runners["standard"]()
        seconds["standard"].append(before)
        for name in ratios:
            if name == SLOW and r >= slow_repeats:
                continue
            t = runners[name]()
            after = runners["standard"]()
            seconds[name].append(t)
            seconds["standard"].append(after)
            ratios[name].append(t / ((before + after) / 2))
            print(f"round {r + 1}: {who} {name:9s} {t:8.2f} s = {ratios[name][-1]:6.2f}× standard", flush=True)
            before = after
    out = {"standard": {"seconds": statistics.median(seconds["standard"]), "ratio": 1.0}}
    for name in ratios:
        out[name] = {"seconds": statistics.median(seconds[name]), "ratio": statistics.median(ratios[name]),
                     "ratio_min": min(ratios[name]), "ratio_max": max(ratios[name])}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--train", type=int, default=10_000, help="training images per epoch")
    parser.add_argument("--slow-repeats", type=int, default=1, help="rounds that include the 40-step PGD trainers")
    parser.add_argument("--no-art", action="store_true", help="skip ART's trainers")
    args = parser.parse_args(argv)
    apply_threads(args.threads)  # --threads 1 gives steadier ratios on a shared machine
    where = machine()

    data = load("mnist", data_dir=args.data_dir if args.data_dir.is_dir() else None, limit_train=args.train, quiet=True)
    x, y = data.x_train, data.y_train
    torch.manual_seed(0)
    initial = build("cnn-small", input_shape=data.input_shape, classes=data.class_names)
    methods: dict[str, TrainingMethod | None] = {
        "standard": None, "fast": FastFGSM(EPS), "fgsm": FGSMAdversarial(EPS, alpha=0.5),
        **{f"pgd-{k}": PGDAdversarial(EPS, steps=k, stepsize=s, stop_when_fooled=False) for k, s in PGD_STEPS.items()},
        "pgd-default": PGDAdversarial(EPS),  # the CLI's default: 10 steps of 0.04, fooled samples stop
    }
    ours_run = {name: _advlab_runner(initial, x, y, m) for name, m in methods.items()}
    art_run: dict[str, Runner] = {}
    art_note = ""
    if not args.no_art:
        try:
            art_run = _art_runners(initial, x, y)
        except ImportError as exc:
            art_note = f"ART not measured: {exc}"

    # Warm-up: one-time kernel and allocator set-up would otherwise land on whoever runs first.
    for method in (None, FastFGSM(EPS)):
        _advlab_runner(initial, x[: 2 * BATCH], y[: 2 * BATCH], method)()
    if art_run:
        _art_runners(initial, x[: 2 * BATCH], y[: 2 * BATCH])["fast"]()

    ours = paired("advlab", ours_run, args.repeats, args.slow_repeats)
    probe_cost = _probe_cost(initial, x, y, FastFGSM(EPS))
    theirs = paired("ART   ", art_run, args.repeats, args.slow_repeats) if art_run else {}

    targets = {"fast": 2.2, **{f"pgd-{k}": 1.1 * (k + 1) for k in PGD_STEPS}, "pgd-default": 1.1 * 11}
    labels = {"standard": "standard", "fast": "FastFGSM (ε 0.3, step 0.375, unclipped start)", "fgsm": "FGSM α = 0.5",
              **{f"pgd-{k}": f"PGD-{k} (Madry)" for k in PGD_STEPS},
              "pgd-default": "PGD-10 × 0.04, stop when fooled (`--method pgd`)"}
    art_labels = {"standard": "classifier.fit", "fast": "AdversarialTrainerFBFPyTorch",
                  "fgsm": "AdversarialTrainer(FGSM, ratio 0.5)",
                  **{f"pgd-{k}": f"AdversarialTrainerMadryPGD(max_iter {k})" for k in PGD_STEPS}}
    rows = []
    for name in methods:
        o = ours[name]
        target = targets.get(name)
        verdict = "" if target is None else (f" ≤ {target:.1f} ✓" if o["ratio"] <= target else f" > {target:.1f} ✗ miss")
        spread = f" ({o['ratio_min']:.2f}–{o['ratio_max']:.2f})" if "ratio_min" in o and o["ratio_min"] != o["ratio_max"] else ""
        row = {"advlab method": labels[name], "s / epoch": f"{o['seconds']:.2f}",
               "÷ standard (target)": f"{o['ratio']:.2f}×{spread}{verdict}",
               "ART trainer": "–", "ART s / epoch": "–", "ART ÷ ART standard": "–", "advlab ÷ ART (s)": "–"}
        if name in theirs:
            t = theirs[name]
            row.update({"ART trainer": art_labels[name], "ART s / epoch": f"{t['seconds']:.2f}",
                        "ART ÷ ART standard": f"{t['ratio']:.2f}×", "advlab ÷ ART (s)": f"{o['seconds'] / t['seconds']:.2f}"})
        rows.append(row)
    body = (
        "## Robust training cost (`benchmarks/training.py`)\n\n"
        f"MNIST `cnn-small`, one epoch of {len(x)} training images, batch {BATCH}, Adam, ε = {EPS}. Each ratio is "
        "the median over rounds of (method epoch ÷ mean of the standard epochs just before and after it), range "
        f"in brackets; {args.repeats} rounds ({args.slow_repeats} for PGD-{max(PGD_STEPS)}). Machine: {where}.\n\n"
        f"{markdown_table(rows)}\n"
        + (f"\n{art_note}\n" if art_note else "")
        + "\nNotes: advlab's FGSM objective trains on the clean *and* the FGSM batch (two full passes), ART's "
        "AdversarialTrainer replaces half of one batch, so their costs differ by design. ART's trainers craft "
        "in eval mode, advlab's in train mode (cnn-small has neither dropout nor batch norm, so the numbers agree). "
        "On this CPU build a conv layer's input gradient costs more than its weight gradient, so crafting "
        "(forward + backward to the input) costs about as much as a whole standard training step. Every advlab method "
        "crafts through the attacks' low-level entry (`Attack.perturb`: no validation, no verification).\n"
        f"\nfit's robustness probe (PGD-10 on {probe_cost['size']} held-out images after each epoch, on by default for "
        f"robust methods) costs {probe_cost['seconds']:.2f} s per epoch here = {probe_cost['ratio']:.2f}× a standard "
        f"epoch of {len(x)} images (on full MNIST, 59 500 images, about {probe_cost['ratio'] * len(x) / 59_500:.2f}×).\n"
    )
    print(body)
    if args.write and not args.no_write:
        write_section(RESULTS, SECTION, body)
    return {"train_images": len(x), "batch_size": BATCH, "eps": EPS, "advlab": ours, "art": theirs}


if __name__ == "__main__":
    main()
