"""advlab's ``standard`` L∞ evaluation beside ART's AutoAttack, and advlab's APGD-CE beside ART's, on MNIST cnn-small.

Models (trained once, cached in ``benchmarks/out/evalmodels``; Adam, cyclic lr 0 → 5e-3 → 0,
batch 100, seed 0, all 60 000 training images):

* ``standard``: 2 epochs of plain training, evaluated at ε = 0.1;
* ``pgd``: 5 epochs of PGD training (ε 0.3, 10 steps of 0.04, stop when fooled:
  ``METHODS.create("pgd", …, stop_when_fooled=True)``), evaluated at ε = 0.3;
* ``fast``: 5 epochs of fast FGSM training (ε 0.3, step 0.375, Wong et al.'s unclipped
  start), evaluated at ε = 0.3.

For each model, side by side in one run on the first N test images:
advlab ``robust_accuracy(..., preset="standard")`` (APGD-CE → APGD-T → FMN [→ Square when
registered]) and standard AutoAttack's cascade built from ART's attacks (APGD-CE → APGD-T →
Square, see ``art_autoattack``); then advlab ``APGD`` (CE, 100 steps) and ART's
``AutoProjectedGradientDescent`` (CE, 100 iterations, one start).

    python -m benchmarks.evaluate --data-dir ../shared/data --n 200 --threads 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from benchmarks.common import OUT, RESULTS, add_common_args, apply_threads, machine, markdown_table, mnist, write_section

from advlab.attacks import APGD
from advlab.evaluate import robust_accuracy
from advlab.models import Model, build
from advlab.runs import open_run, save_run
from advlab.train import METHODS, fit

MODELS = OUT / "evalmodels"
EPS = {"standard": 0.1, "pgd": 0.3, "fast": 0.3}


def trained(kind: str, data_dir: Path, quiet: bool) -> Model:
    path = MODELS / f"cnn-small-{kind}"
    if (path / "model.safetensors").is_file():
        return open_run(path).load_model().eval()
    ds = mnist(data_dir, quiet)
    method = {"standard": None,
              "fast": METHODS.create("fast", eps=0.3, step=0.375, clip_start=False),
              "pgd": METHODS.create("pgd", eps=0.3, steps=10, stepsize=0.04, stop_when_fooled=True)}[kind]
    torch.manual_seed(0)
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
    history = fit(model, ds, method=method, epochs=2 if kind == "standard" else 5, batch_size=100, optimizer="adam",
                  lr=5e-3, schedule="cyclic", seed=0, quiet=quiet)
    save_run(path, model.cpu().eval(), {"name": "mnist"}, history.to_json())
    return model.eval()


def timed(fn: Any) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def art_classifier(model: Model) -> Any:
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 28, 28), nb_classes=10,
                             clip_values=(0.0, 1.0))


def art_autoattack(clf: Any, x: np.ndarray, y: np.ndarray, eps: float, square_iter: int) -> tuple[np.ndarray, dict[str, float]]:
    """Standard AutoAttack's cascade built from ART's attacks: APGD-CE → APGD-T (targeted DLR, the 9 runner-up
    classes of the clean logits) → Square; each stage on the points still robust. Returns (robust mask, seconds per stage)."""
    from art.attacks.evasion import AutoProjectedGradientDescent, SquareAttack

    common = {"norm": np.inf, "eps": eps, "eps_step": 2 * eps, "max_iter": 100, "nb_random_init": 1, "verbose": False}
    robust = clf.predict(x).argmax(1) == y
    ranked = np.argsort(-clf.predict(x), axis=1)
    seconds: dict[str, float] = {}

    def stage(name: str, run: Any) -> None:
        t0 = time.perf_counter()
        idx = np.nonzero(robust)[0]
        if len(idx):
            adv = run(idx)
            robust[idx[clf.predict(adv).argmax(1) != y[idx]]] = False
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0

    stage("apgd-ce", lambda i: AutoProjectedGradientDescent(clf, loss_type="cross_entropy", batch_size=len(i), **common)
          .generate(x[i], y=y[i]))
    for t in range(1, 10):
        stage("apgd-t", lambda i, t=t: AutoProjectedGradientDescent(clf, loss_type="difference_logits_ratio", targeted=True,
                                                               batch_size=len(i), **common).generate(x[i], y=ranked[i, t]))
    stage("square", lambda i: SquareAttack(clf, norm=np.inf, eps=eps, max_iter=square_iter, p_init=0.8, nb_restarts=1,
                                           batch_size=len(i), verbose=False).generate(x[i], y=y[i]))
    return robust, seconds


def art_apgd(clf: Any, x: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    from art.attacks.evasion import AutoProjectedGradientDescent

    return AutoProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=100, nb_random_init=1,
                                        batch_size=len(x), loss_type="cross_entropy", verbose=False).generate(x, y=y)


def main() -> None:
    parser = add_common_args(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--models", default="standard,pgd,fast")
    parser.add_argument("--square-iter", type=int, default=5000)
    args = parser.parse_args()
    apply_threads(args.threads)
    ds = mnist(args.data_dir, True)
    x, y = ds.x_test[: args.n], ds.y_test[: args.n]
    xn, yn = x.numpy(), y.numpy()
    head = f"Machine: {machine()}. First {args.n} MNIST test images."
    rows, cascade_rows, apgd_rows = [], [], []
    for kind in args.models.split(","):
        model = trained(kind, args.data_dir, args.quiet)
        eps = EPS[kind]
        clf = art_classifier(model)
        clean = (model.predict(x) == y).float().mean().item()
        w_a, c_a, res = timed(lambda m=model, e=eps: robust_accuracy(m, x, y, [e], preset="standard", seed=0, quiet=args.quiet))
        w_r, c_r, (art_robust, art_secs) = timed(lambda c=clf, e=eps: art_autoattack(c, xn, yn, e, args.square_iter))
        art_acc = float(art_robust.mean())
        ours = res.robust_accuracy[0]
        rows.append({"model": f"cnn-small {kind}", "ε": eps, "clean": f"{100 * clean:.1f}",
                     "advlab standard": f"{100 * ours:.1f}", "ART AutoAttack": f"{100 * art_acc:.1f}",
                     "≤ ART + 0.3": "✓" if ours <= art_acc + 0.003 + 1e-6 else "✗ miss",
                     "advlab s (cpu)": f"{w_a:.0f} ({c_a:.0f})", "ART s (cpu)": f"{w_r:.0f} ({c_r:.0f})",
                     "time ratio (≤ 0.5)": f"{w_a / w_r:.2f} {'✓' if w_a <= 0.5 * w_r else '✗ miss'}"})
        per = res.per_attack()[0]
        secs = res.seconds_per_attack()
        cascade_rows.append({"model": f"cnn-small {kind}", **{f"{n} (acc, s)": f"{100 * per['after ' + n]:.1f}, {secs[n]:.0f}"
                                                            for n in res.member_names},
                             "ART s per stage": ", ".join(f"{k} {v:.0f}" for k, v in art_secs.items())})
        w_o, c_o, r1 = timed(lambda m=model, e=eps: APGD("linf", steps=100)(m, x, y, eps=e, seed=0))
        w_p, c_p, xp = timed(lambda c=clf, e=eps: art_apgd(c, xn, yn, e))
        ours1, theirs1 = r1.robust_accuracy[0].item(), float((clf.predict(xp).argmax(1) == yn).mean())
        apgd_rows.append({"model": f"cnn-small {kind}", "ε": eps, "advlab APGD-CE": f"{100 * ours1:.1f}",
                          "ART APGD-CE": f"{100 * theirs1:.1f}",
                          "within 0.5": "✓" if abs(ours1 - theirs1) <= 0.005 + 1e-6 else "✗ miss",
                          "advlab s (cpu)": f"{w_o:.0f} ({c_o:.0f})", "ART s (cpu)": f"{w_p:.0f} ({c_p:.0f})"})
        print(rows[-1], cascade_rows[-1], apgd_rows[-1], flush=True)
    body = "\n\n".join([
        "## Robustness evaluation: advlab `standard` suite vs ART AutoAttack (benchmarks/evaluate.py)",
        head + " Models: MNIST cnn-small trained by `benchmarks/evaluate.py` (see its docstring: standard 2 epochs; "
        "PGD-10 stop-when-fooled 5 epochs; fast FGSM 5 epochs; ε 0.3). advlab: `robust_accuracy(preset='standard')` "
        "= APGD-CE (100) → APGD-T (9 targets × 100) → FMN (100)"
        " (Square joins when the black-box attacks are merged). ART AutoAttack as configured here: APGD-CE and "
        f"APGD-DLR (100 iterations, 1 start each) then Square ({args.square_iter} iterations, 1 restart), untargeted "
        "(the original standard AutoAttack runs APGD-T, FAB-T and Square-5000; too slow for this shared CPU). "
        "Robust accuracy in %, wall seconds (CPU seconds).",
        markdown_table(rows),
        "Cascade: robust accuracy after each advlab member, and its seconds.",
        markdown_table(cascade_rows),
        "APGD-CE alone, 100 iterations, one start, same images:",
        markdown_table(apgd_rows),
    ])
    print(body)
    if not args.no_write:
        write_section(RESULTS, "evaluate", body)


if __name__ == "__main__":
    main()
