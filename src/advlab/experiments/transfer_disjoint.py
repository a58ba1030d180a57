"""Adversarial examples transfer across architectures and disjoint training sets (Szegedy et al., 2014;
Goodfellow et al., 2015, §8).

Four MNIST models with different architectures and hyperparameters, trained on
the two disjoint halves of the training set (A: the first 30 000 images, B: the
last 30 000): a softmax regression on A, an MLP on B and the small CNN once on
each half. FGSM and PGD (L∞) adversarials crafted on each model (white-box) are
classified by every model: the transfer matrices. Same architecture on
disjoint data (cnn·A → cnn·B), different architecture on disjoint data, and
different architecture on the same data appear side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from advlab.attacks import ATTACKS
from advlab.data import load
from advlab.evaluate import TransferResult, transfer
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult
from advlab.models import Model, build
from advlab.train import fit


@dataclass(frozen=True)
class Member:
    name: str
    family: str
    half: str  # "A" or "B"
    options: dict[str, Any]
    fit: dict[str, Any]  # optimiser settings: different per model on purpose


MEMBERS = (
    Member("softmax·A", "softmax", "A", {}, {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "batch_size": 128}),
    Member("mlp·B", "mlp", "B", {"widths": [256, 128]}, {"optimizer": "adam", "lr": 1e-3, "batch_size": 64}),
    Member("cnn·A", "cnn-small", "A", {}, {"optimizer": "adam", "lr": 1e-3, "batch_size": 128}),
    Member("cnn·B", "cnn-small", "B", {}, {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "batch_size": 64}),
)


def _settings(ctx: ExperimentContext) -> dict[str, Any]:
    full = {"epochs": 2, "limit_train": None, "n": 1000, "fgsm_eps": [0.1, 0.25], "pgd_eps": [0.1, 0.25], "pgd_steps": 40}
    fast = {"epochs": 1, "limit_train": 3000, "n": 200, "fgsm_eps": [0.25], "pgd_eps": [0.25], "pgd_steps": 10}
    settings = fast if ctx.fast else full
    settings.update({k: v for k, v in ctx.options.items() if k in settings})
    return settings


def _train_members(ds: Any, s: dict[str, Any], ctx: ExperimentContext) -> tuple[dict[str, Model], list[dict[str, Any]]]:
    half = len(ds.x_train) // 2
    parts = {"A": slice(0, half), "B": slice(half, 2 * half)}
    x_eval, y_eval = ds.x_test[: s["n"]], ds.y_test[: s["n"]]
    models, rows = {}, []
    for i, m in enumerate(MEMBERS):
        part = parts[m.half]
        model = build(m.family, input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, **m.options)
        fit(model, (ds.x_train[part], ds.y_train[part]), epochs=s["epochs"], seed=ctx.seed + i, device=ctx.device,
            quiet=ctx.quiet, **m.fit)
        model.cpu()
        acc = (model.predict(x_eval) == y_eval).float().mean().item()
        models[m.name] = model
        rows.append({"model": m.name, "family": m.family, "options": m.options, "training_half": m.half,
                     "training_images": part.stop - part.start, **m.fit, "epochs": s["epochs"], "test_accuracy": acc})
    return models, rows


def _off_diagonal(result: TransferResult, k: int, kind: str) -> float:
    m = result.matrix(k, kind)
    mask = ~np.eye(m.shape[0], dtype=bool)
    return float(np.nanmean(m[mask]))


def _cell(result: TransferResult, k: int, src: str, tgt: str, kind: str = "transfer") -> float:
    return float(result.matrix(k, kind)[result.source_names.index(src), result.target_names.index(tgt)])


def _figure(results: dict[str, TransferResult]) -> Any:
    import matplotlib.pyplot as plt

    from advlab.viz.transfer_display import TransferDisplay

    panels = [(name, k) for name, r in results.items() for k in range(r.num_eps)]
    fig, axes = plt.subplots(2, len(panels), figsize=(4.6 * len(panels), 8.4), squeeze=False)
    for col, (name, k) in enumerate(panels):
        for row, kind in enumerate(("error", "transfer")):
            TransferDisplay(results[name]).plot(axes[row][col], eps_index=k, kind=kind, colorbar=False, fontsize=8)
    fig.tight_layout()
    return fig


def _comparisons(results: dict[str, TransferResult]) -> list[Comparison]:
    qualitative = "transfers (qualitative)"
    out = []
    for name, r in results.items():
        k = r.num_eps - 1
        eps = r.eps_label(k)
        out += [
            Comparison(f"{name} ε={eps}: mean off-diagonal transfer rate", 100 * _off_diagonal(r, k, "transfer"), qualitative, "%",
                       "among inputs both models classify correctly"),
            Comparison(f"{name} ε={eps}: cnn·A → cnn·B (same net, disjoint data)", 100 * _cell(r, k, "cnn·A", "cnn·B"), qualitative, "%"),
            Comparison(f"{name} ε={eps}: mlp·B → softmax·A (other net, other data)", 100 * _cell(r, k, "mlp·B", "softmax·A"), qualitative, "%"),
        ]
    return out


def _summary(fgsm: TransferResult, pgd: TransferResult) -> str:
    kf, kp = fgsm.num_eps - 1, pgd.num_eps - 1
    tf, tp = _off_diagonal(fgsm, kf, "transfer"), _off_diagonal(pgd, kp, "transfer")
    wf, wp = float(np.mean(np.diag(fgsm.matrix(kf)))), float(np.mean(np.diag(pgd.matrix(kp))))
    verdict = (
        "PGD, the stronger white-box attack, transferred less than FGSM: its many small steps fit its own model's quirks."
        if tp < tf else "PGD, the stronger white-box attack, also transferred at least as well as FGSM."
    )
    return (
        "Adversarial examples made for one model fool other models, even of another architecture trained on other "
        f"data. FGSM at ε = {fgsm.eps_label(kf)} fooled its own model on {100 * wf:.0f}% of the inputs (mean diagonal) "
        f"and the other models on {100 * tf:.0f}% of the inputs both models got right (mean over pairs); PGD at "
        f"ε = {pgd.eps_label(kp)}: {100 * wp:.0f}% white-box, {100 * tp:.0f}% transferred. {verdict}"
    )


def run(ctx: ExperimentContext) -> ExperimentResult:
    s = _settings(ctx)
    ds = load("mnist", data_dir=ctx.data_dir, quiet=ctx.quiet, limit_train=s["limit_train"])
    models, model_rows = _train_members(ds, s, ctx)
    x, y = ds.x_test[: s["n"]], ds.y_test[: s["n"]]
    attacks = {
        "fgsm": (ATTACKS.create("fgsm", norm="linf"), s["fgsm_eps"]),
        # Step 2.5·ε/steps (Madry et al.'s rule) from a random start.
        "pgd": (ATTACKS.create("pgd", norm="linf", steps=s["pgd_steps"], rel_stepsize=2.5 / s["pgd_steps"]), s["pgd_eps"]),
    }
    results = {name: transfer(models, models, atk, x, y, eps, batch_size=500, seed=ctx.seed, quiet=ctx.quiet)
               for name, (atk, eps) in attacks.items()}
    tables = {f"{name}_matrix": r.table() for name, r in results.items()}
    tables["models"] = model_rows
    scale = (
        f"MNIST, {len(ds.x_train)} training images split into two disjoint halves of {len(ds.x_train) // 2}; "
        f"{len(MEMBERS)} models, {s['epochs']} epoch(s) each; transfer measured on the first {len(x)} test images; "
        f"FGSM ε ∈ {s['fgsm_eps']}, PGD ε ∈ {s['pgd_eps']} ({s['pgd_steps']} steps, random start). "
        "The papers' models (maxout, RBF, deep FC nets) are not rebuilt: the comparison is qualitative."
    )
    summary = _summary(results["fgsm"], results["pgd"])
    return ExperimentResult(
        name="transfer-disjoint",
        title="Transfer of adversarial examples across architectures and disjoint training sets (MNIST)",
        summary=summary,
        metrics={"settings": s, "models": model_rows, **{name: r.to_json() for name, r in results.items()}},
        figures={"transfer_matrices": _figure(results)},
        captions={"transfer_matrices": "Rows: the model the adversarials were crafted on; columns: the model that "
                                       "classifies them. Top: error rate over all inputs; bottom: among inputs both "
                                       "models classify correctly when clean."},
        comparisons=_comparisons(results),
        scale=scale,
        tables=tables,
    )
