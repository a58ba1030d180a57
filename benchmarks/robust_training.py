"""Does the documented robust-training route work? Train with the CLI's defaults, then attack hard.

For each method (``fast``, ``pgd``) and seed, runs
``advlab train cnn-small --data mnist --method M --eps 0.3 --seed S`` exactly as a
user would (a subprocess; its wall and CPU time are recorded), then measures on
the first 1,000 MNIST test images at ε = 0.3:

- clean accuracy;
- advlab's PGD-50×10 (50 steps of 2.5·ε/50 from a random start, 10 restarts);
- AutoAttack's first two attacks as in Croce & Hein's standard version, from ART
  (adversarial-robustness-toolbox): APGD-CE (100 iterations), then APGD-T with the
  DLR loss (100 iterations) against each of the 9 other classes, each run only on
  the images still robust; worst case per image.

Targets (issue 9): fast ≥ 75% robust (AutoAttack) with ≥ 97.5% clean for both seeds;
pgd ≥ 85% within 20 minutes of training on 2 cores.

Usage: ``python benchmarks/robust_training.py [--methods fast,pgd] [--seeds 0,1] [--write]``.
Each run's numbers go to ``benchmarks/out/robust/<method>-s<seed>/measure.json``; ``--eval-only``
re-measures existing runs, ``--table`` only prints the table from what is there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import advlab  # noqa: E402
from advlab.attacks import PGD  # noqa: E402
from advlab.runs import open_run  # noqa: E402
from common import DEFAULT_DATA_DIR, OUT, RESULTS, machine, markdown_table, write_section  # noqa: E402

EPS = 0.3
TARGETS = {"fast": (0.75, 0.975), "pgd": (0.85, None)}
ROBUST = OUT / "robust"


def train(method: str, seed: int, data_dir: Path, threads: int) -> dict[str, Any]:
    out = ROBUST / f"{method}-s{seed}"
    cmd = [sys.executable, "-c", "from advlab.cli import main; main()", "train", "cnn-small", "--data", "mnist", "--method", method,
           "--eps", str(EPS), "--seed", str(seed), "--out", str(out), "--data-dir", str(data_dir), "-q"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"training failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")
    info = {"command": "advlab " + " ".join(cmd[3:]), "wall_s": wall,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "threads": threads, "output": proc.stdout + proc.stderr}
    (out / "train_time.json").write_text(json.dumps(info, indent=1))
    return info


def autoattack(model: advlab.Model, x: torch.Tensor, y: torch.Tensor, eps: float, batch_size: int = 500) -> np.ndarray:
    """Per image: still right after APGD-CE, then APGD-T (DLR, 9 targets) on the survivors (ART)."""
    from art.attacks.evasion import AutoProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    model.eval()
    clf = PyTorchClassifier(model=model.net, loss=torch.nn.CrossEntropyLoss(), input_shape=tuple(model.input_shape),
                            nb_classes=model.num_classes, clip_values=(0.0, 1.0), device_type="cpu")
    xn, yn = x.numpy(), y.numpy()
    robust = clf.predict(xn, batch_size=batch_size).argmax(1) == yn

    def survivors(x_adv: np.ndarray, idx: np.ndarray) -> None:
        still = clf.predict(x_adv, batch_size=batch_size).argmax(1) == yn[idx]
        robust[idx[~still]] = False

    ce = AutoProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=100, targeted=False,
                                      nb_random_init=1, batch_size=batch_size, loss_type="cross_entropy", verbose=False)
    idx = np.flatnonzero(robust)
    if len(idx):
        survivors(ce.generate(xn[idx], yn[idx]), idx)
    apgd_t = AutoProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=100, targeted=True,
                                          nb_random_init=1, batch_size=batch_size,
                                          loss_type="difference_logits_ratio", verbose=False)
    for k in range(1, model.num_classes):
        idx = np.flatnonzero(robust)
        if not len(idx):
            break
        target = (yn[idx] + k) % model.num_classes  # every other class once
        survivors(apgd_t.generate(xn[idx], target), idx)
    return robust


def measure(method: str, seed: int, data_dir: Path, n: int) -> dict[str, Any]:
    out = ROBUST / f"{method}-s{seed}"
    run = open_run(out)
    model = run.load_model()
    data = run.load_data(data_dir=data_dir)
    x, y = data.x_test[:n], data.y_test[:n]
    clean = float((model.predict(x) == y).float().mean())
    t0 = time.perf_counter()
    pgd = PGD(steps=50, rel_stepsize=2.5 / 50, restarts=10)(model, x, y, eps=EPS, seed=0)
    pgd_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    aa = autoattack(model, x, y, EPS)
    aa_s = time.perf_counter() - t0
    history = json.loads((out / "history.json").read_text())
    timing = json.loads((out / "train_time.json").read_text()) if (out / "train_time.json").is_file() else {}
    result = {"method": method, "seed": seed, "n": n, "clean": clean, "pgd50x10": float(pgd.robust_accuracy[0]),
              "autoattack": float(aa.mean()), "pgd_seconds": pgd_s, "autoattack_seconds": aa_s,
              "train_wall_s": timing.get("wall_s"), "train_cpu_s": timing.get("cpu_s"),
              "robust_checkpoint": history.get("robust_checkpoint"), "config": history.get("config")}
    (out / "measure.json").write_text(json.dumps(result, indent=1))
    return result


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        robust_t, clean_t = TARGETS.get(r["method"], (None, None))
        ok = (robust_t is None or r["autoattack"] >= robust_t) and (clean_t is None or r["clean"] >= clean_t)
        if r["method"] == "pgd" and r.get("train_wall_s"):
            ok = ok and r["train_wall_s"] <= 20 * 60
        cp = r.get("robust_checkpoint") or {}
        cfg = r.get("config") or {}
        rows.append({
            "method": f"`--method {r['method']}`", "seed": r["seed"],
            "training": f"{cfg.get('epochs')} ep., batch {cfg.get('batch_size')}, lr {cfg.get('lr')} {cfg.get('schedule')}",
            "train wall / CPU min": (f"{r['train_wall_s'] / 60:.1f} / {r['train_cpu_s'] / 60:.1f}"
                                     if r.get("train_wall_s") else "—"),
            "kept epoch (probe acc)": f"{cp.get('epoch')} ({cp.get('probe_accuracy', float('nan')):.3f})" if cp else "—",
            "clean": f"{r['clean']:.3f}", "PGD-50×10": f"{r['pgd50x10']:.3f}",
            "AutoAttack (APGD-CE + APGD-T, ART)": f"{r['autoattack']:.3f}",
            "target": (f"≥ {robust_t:.0%} AA" + (f", ≥ {clean_t:.1%} clean" if clean_t else "")
                       + (", ≤ 20 min" if r["method"] == "pgd" else "")) if robust_t else "—",
            "met": "✓" if ok else "✗",
        })  # fmt: skip
    return markdown_table(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="fast,pgd")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--n-eval", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2, help="threads for training (evaluation uses 1)")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("ADVLAB_DATA", DEFAULT_DATA_DIR)))
    p.add_argument("--eval-only", action="store_true")
    p.add_argument("--table", action="store_true", help="only print the table of the runs measured so far")
    p.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    results = []
    for method in args.methods.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            folder = ROBUST / f"{method}-s{seed}"
            if args.table:
                if (folder / "measure.json").is_file():
                    results.append(json.loads((folder / "measure.json").read_text()))
                continue
            if not args.eval_only:
                info = train(method, seed, args.data_dir, args.threads)
                print(f"trained {method} seed {seed}: {info['wall_s'] / 60:.1f} min wall, {info['cpu_s'] / 60:.1f} min CPU",
                      flush=True)
            r = measure(method, seed, args.data_dir, args.n_eval)
            print(json.dumps({k: v for k, v in r.items() if k != "config"}), flush=True)
            results.append(r)
    text = (f"Machine: {machine()}. MNIST, cnn-small, first {args.n_eval} test images, ε = {EPS} (L∞).\n\n"
            + table(results))
    print(text)
    if args.write:
        write_section(RESULTS, "robust_training", "## Robust training with the CLI's defaults (`benchmarks/robust_training.py`)\n\n" + text)


if __name__ == "__main__":
    main()
