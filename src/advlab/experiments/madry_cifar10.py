"""Robust training on CIFAR-10 at ε = 8/255: Wong, Rice & Kolter's "fast" FGSM training and Madry et al.'s
PGD-7 training, on the PreAct ResNet-18, evaluated with PGD-50 × 10 restarts on the engine.

Wong et al. report 83.81 % clean and 46.06 % under PGD-50×10 after 15 epochs (12 minutes on one GPU, mixed
precision). Madry et al. report 87.3 % clean and 45.8 % under PGD-20 for their wide ResNet after ~205 epochs
of PGD-7 training. Full scale needs CIFAR-10 (see ``FETCH_HINT``) and a GPU; ``--fast`` runs a tiny network on a
few hundred images to show the pipeline, and says so.
"""

from __future__ import annotations

from typing import Any

from advlab.experiments.cifar10_common import EPS, MADRY_PGD, WONG_FAST, evaluate_on_engine, load_cifar10, train_recipe
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult, agreement_note

PAPER = {"fast_clean": 83.81, "fast_pgd": 46.06, "madry_clean": 87.3, "madry_pgd": 45.8}
FULL = {"limit_train": None, "limit_test": None, "n_eval": 1000, "width": 64, "fast_epochs": 15, "pgd_epochs": 200,
        "eval_steps": 50, "eval_restarts": 10, "pgd": True}
FAST = {"limit_train": 256, "limit_test": 64, "n_eval": 32, "width": 4, "fast_epochs": 1, "pgd_epochs": 1,
        "eval_steps": 5, "eval_restarts": 1, "pgd": True}


def _settings(ctx: ExperimentContext) -> dict[str, Any]:
    s = dict(FAST if ctx.fast else FULL)
    s.update({k: v for k, v in ctx.options.items() if k in s})
    return s


def _figure(ev: dict[str, Any], labels: dict[str, str]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(ev)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [100 * ev[n]["clean_accuracy"] for n in names], width=0.4, label="clean")
    ax.bar([x + 0.2 for x in xs], [100 * ev[n]["robust_accuracy"] for n in names], width=0.4, label="PGD at ε = 8/255")
    ax.set_xticks(list(xs), [labels[n] for n in names])
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    fig.tight_layout()
    return fig


def run(ctx: ExperimentContext) -> ExperimentResult:
    s = _settings(ctx)
    ds = load_cifar10(ctx, s["limit_train"], s["limit_test"])
    opts = {"width": s["width"]}
    plans = {"fast": ("Fast FGSM (Wong et al.)", WONG_FAST.scaled(epochs=s["fast_epochs"], model_options=opts))}
    if s["pgd"]:
        plans["pgd"] = ("PGD-7 (Madry et al.)", MADRY_PGD.scaled(epochs=s["pgd_epochs"], model_options=opts))
    info = {}
    for name, (_label, recipe) in plans.items():
        _, info[name] = train_recipe(ctx, ds, recipe, ctx.seed, name)
    pgd = {"name": "pgd", "norm": "linf", "options": {"steps": s["eval_steps"], "stepsize": 2 / 255, "restarts": s["eval_restarts"]}}
    ev = evaluate_on_engine(ctx, {n: i["path"] for n, i in info.items()}, [pgd], EPS, s["n_eval"])
    labels = {n: p[0] for n, p in plans.items()}
    attack = f"PGD-{s['eval_steps']}×{s['eval_restarts']} at ε = 8/255"
    scale = (f"CIFAR-10, {len(ds.x_train)} training images; PreAct ResNet-18 of width {s['width']} (paper: 64); "
             f"fast: {s['fast_epochs']} epochs (paper: 15), PGD-7: {s['pgd_epochs']} epochs (Madry: ~205 on a wide ResNet); "
             f"crop+flip augmentation; evaluated on the first {ev['fast']['n']} test images with {attack} "
             f"({ev['fast']['shards']} engine shards on '{ev['fast']['engine']}'); device {info['fast']['device'] if 'device' in info['fast'] else 'reused'}")  # fmt: skip
    rows = []
    for name, e in ev.items():
        clean, robust = 100 * e["clean_accuracy"], 100 * e["robust_accuracy"]
        key = "fast" if name == "fast" else "madry"
        why = "reduced scale (see scale)" if ctx.fast or s["width"] != 64 else "see scale"
        rows.append(Comparison(f"{labels[name]}: clean accuracy", clean, PAPER[f"{key}_clean"], "%",
                               agreement_note(clean, PAPER[f"{key}_clean"], why, 2.0)))
        rows.append(Comparison(f"{labels[name]}: {attack}", robust, PAPER[f"{key}_pgd"], "%",
                               agreement_note(robust, PAPER[f"{key}_pgd"], why, 2.0)))
    return ExperimentResult(
        name="madry-cifar10",
        title="Fast FGSM and PGD-7 adversarial training on CIFAR-10 at ε = 8/255 (Wong et al., 2020; Madry et al., 2018)",
        summary=("Adversarial training on CIFAR-10 with a PreAct ResNet-18: one FGSM step from a random start with a "
                 "cyclic learning rate (Wong et al.) against seven PGD steps per batch (Madry et al.), both evaluated "
                 "with PGD and restarts on the sharded engine."),
        metrics={"settings": s, "evaluation": ev, "training": {n: {k: v for k, v in i.items() if k != "history"} for n, i in info.items()}},
        figures={"accuracy": _figure(ev, labels)},
        captions={"accuracy": f"Clean accuracy and accuracy under {attack} per training method."},
        comparisons=rows,
        scale=scale,
        tables={"models": [{"model": labels[n], **e} for n, e in ev.items()]},
    )
