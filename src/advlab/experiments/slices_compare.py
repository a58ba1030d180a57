"""The same slice for several models side by side (Świrszczyński et al.): a standard CNN, an adversarially
trained one (option ``robust_run=`` or FGSM-with-random-start "fast" training here), the same CNN from
another seed and an MLP. The slice goes through one test image a, its PGD adversarial for the standard
model b and a third point c, so every panel shows the same inputs at the same place.
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.data import load
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult
from advlab.experiments.slices_mnist import pgd, pick_image, settings, trained_model
from advlab.models import Model
from advlab.runs import open_run
from advlab.viz import CompareDisplay, ProfileDisplay, compare_slices, compute_profiles
from advlab.viz.components import component_counts
from advlab.viz.third_points import RandomImage, third_point

FULL = {"data": "mnist", "epochs": 2, "limit_train": None, "eps": 0.1, "train_eps": 0.1, "pgd_steps": 40, "resolution": 160,
        "n": 500, "mlp_widths": [256, 128], "index": None}
FAST = {"data": "digits", "epochs": 3, "limit_train": None, "eps": 0.2, "train_eps": 0.2, "pgd_steps": 10, "resolution": 48,
        "n": 100, "mlp_widths": [64], "index": None}

STANDARD, ROBUST = "cnn-small (standard)", "cnn-small (adversarially trained)"


def _models(ctx: ExperimentContext, ds: Any, s: dict[str, Any]) -> tuple[dict[str, Model], str]:
    common = {"epochs": s["epochs"]}
    models = {STANDARD: trained_model(ctx, ds, "cnn-small", seed=ctx.seed, **common)}
    if ctx.options.get("robust_run"):
        run = open_run(ctx.options["robust_run"])
        models[ROBUST] = run.load_model().cpu().eval()
        robust = f"loaded from {run.path}"
    else:
        models[ROBUST] = trained_model(ctx, ds, "cnn-small", seed=ctx.seed, method="fast", eps=s["train_eps"], **common)
        robust = f"FGSM with random start ('fast' training, ε = {s['train_eps']}) for {s['epochs']} epoch(s), trained here"
    models[f"cnn-small (seed {ctx.seed + 1})"] = trained_model(ctx, ds, "cnn-small", seed=ctx.seed + 1, **common)
    models["mlp " + "-".join(map(str, s["mlp_widths"]))] = trained_model(ctx, ds, "mlp", seed=ctx.seed,
                                                                         options={"widths": s["mlp_widths"]}, **common)
    return models, robust


def _model_rows(models: dict[str, Model], ds: Any, s: dict[str, Any], a: torch.Tensor, b: torch.Tensor, global_: Any,
                seed: int) -> list[dict[str, Any]]:
    x, y = ds.x_test[: s["n"]], ds.y_test[: s["n"]]
    rows = []
    for name, m in models.items():
        result = pgd(s)(m, x, y, eps=s["eps"], seed=seed)
        counts = component_counts(global_.slices[name])
        pa, pb = (ds.class_names[int(k)] for k in m.predict(torch.stack([a, b])).cpu())
        rows.append({"model": name, "test accuracy %": round(100 * float((m.predict(x).cpu() == y).float().mean()), 1),
                     f"PGD ε={s['eps']} robust accuracy %": round(100 * float(result.robust_accuracy[0]), 1),
                     "class of a": pa, "class of b": pb, "fooled by b": pa != pb,
                     "regions in the slice": sum(counts.values()), "classes in the slice": sum(v > 0 for v in counts.values())})
    return rows


def _profiles(models: dict[str, Model], a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> Any:
    import matplotlib.pyplot as plt

    names = [STANDARD, ROBUST]
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.3 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        ProfileDisplay(compute_profiles(models[name], a, b, c, points=150)).plot(ax, title=name)
    fig.tight_layout()
    return fig


def run(ctx: ExperimentContext) -> ExperimentResult:
    s = settings(ctx, FULL, FAST)
    ds = load(s["data"], data_dir=ctx.data_dir, quiet=ctx.quiet, limit_train=s["limit_train"])
    models, robust = _models(ctx, ds, s)
    index, b = pick_image(models[STANDARD], ds, s, ctx.seed)
    a = ds.x_test[index]
    c = third_point(RandomImage(), models[STANDARD], a, b, generator=torch.Generator().manual_seed(ctx.seed))
    half = 0.75 * float((b - a).norm())
    global_ = compare_slices(models, a, b, c, resolution=s["resolution"])
    # a sits on the boundary of H (saturated pixels), so the window reaches mostly upwards, into the plane ∩ H.
    local = compare_slices(models, a, b, c, resolution=s["resolution"], half_width=half, zoom_center=(half / 1.5, 0.55 * half))
    rows = _model_rows(models, ds, s, a, b, global_, ctx.seed)
    figures = {}
    for key, data, what in (("global", global_, "whole slice"), ("local", local, f"window ±{half:.2g} (L2) around a, b")):
        figures[f"{key}_slices"] = CompareDisplay(data).plot(
            ncols=len(models), images=(a, b, c),
            title=f"test image {index} (a), its PGD adversarial for the standard CNN (b), a random image (c): {what}").figure_
    figures["profiles"] = _profiles(models, a, b, c)
    by = {r["model"]: r for r in rows}
    acc = f"PGD ε={s['eps']} robust accuracy %"
    std, rob = by[STANDARD], by[ROBUST]
    others = [r for r in rows if r["model"] not in (STANDARD, ROBUST)]
    transfer = "; ".join(f"{r['model']} calls it {r['class of b']}" for r in others)
    summary = (
        f"One slice, four models. The adversarial b was made for the standard CNN (PGD L∞ ε = {s['eps']}): it moves a "
        f"from {std['class of a']} to {std['class of b']} there, while the adversarially trained CNN calls b "
        f"{rob['class of b']}{' (fooled too)' if rob['fooled by b'] else ' (not fooled)'}; its robust accuracy is "
        f"{rob[acc]}% against {std[acc]}% for the standard CNN. The same b for the other models: {transfer}. "
        "Side by side, the panels show where each model puts its boundaries near a and b and far from them "
        "(grey, hatched: outside the box H): a model fooled by b like the standard CNN has a boundary between a and b, "
        "the others place theirs elsewhere. The profiles show the class probabilities along a → b → c → a "
        "for the standard and the robust model."
    )
    comparisons = [
        Comparison("standard CNN fooled by b (its own PGD adversarial)", float(std["fooled by b"]), "yes", "", "1 = fooled"),
        Comparison("adversarially trained CNN fooled by the same b", float(rob["fooled by b"]), "qualitative", "", "1 = fooled"),
        Comparison(f"robust accuracy at PGD ε={s['eps']}: standard → adversarially trained",
                   rob[acc] - std[acc], "qualitative",
                   "%", "difference in percentage points"),
    ]
    scale = (f"{'fast mode: ' if ctx.fast else ''}{ds.name}, {len(ds.x_train)} training images, {s['epochs']} epoch(s) per "
             f"model; robust model: {robust}; robust accuracy on the first {s['n']} test images; slices "
             f"{s['resolution']}×{s['resolution']}.")
    return ExperimentResult(
        name="slices-compare", title="The same slice for a standard, an adversarially trained, another-seed and an MLP model",
        summary=summary, metrics={"settings": s, "image_index": index, "robust_model": robust, "models": rows},
        figures=figures,
        captions={"global_slices": "The whole slice through a, b, c for each model (same geometry in every panel).",
                  "local_slices": "A small window around a and b, same for every model.",
                  "profiles": "Class probabilities along a → b → c → a for the standard and the adversarially trained CNN."},
        comparisons=comparisons, scale=scale, tables={"models": rows},
    )
