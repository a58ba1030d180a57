"""Decision regions on 2-D slices through a CIFAR-10 image, its PGD adversarial and a third point, for the Wide
ResNet of the decision-region paper (Świrszczyński et al. use WRN-28-10).

The model comes from option ``run=`` (e.g. a WRN-28-10 trained with ``advlab train wrn-28-10 --data cifar10``) or
is trained here with ``STANDARD_WRN`` (the full recipe is 200 epochs: a GPU job; ``--fast`` trains a WRN-10-1 for
one epoch on a few hundred images and says so). Needs the CIFAR-10 archive (see ``FETCH_HINT``).
"""

from __future__ import annotations

from typing import Any

import torch

from advlab.attacks import ATTACKS
from advlab.experiments.cifar10_common import STANDARD_WRN, load_cifar10, train_recipe
from advlab.experiments.registry import ExperimentContext, ExperimentResult
from advlab.viz import SliceDisplay, compute_slice
from advlab.viz.components import component_counts
from advlab.viz.third_points import Grey, RandomImage, RandomPerturbation, ThirdPoint, third_point

FULL = {"limit_train": None, "limit_test": 1000, "depth": 28, "widen": 10, "epochs": 200, "eps": 8 / 255,
        "pgd_steps": 20, "resolution": 200, "search": 64}  # fmt: skip
FAST = {"limit_train": 256, "limit_test": 64, "depth": 10, "widen": 1, "epochs": 1, "eps": 8 / 255, "pgd_steps": 5,
        "resolution": 24, "search": 16}  # fmt: skip


def _settings(ctx: ExperimentContext) -> dict[str, Any]:
    s = dict(FAST if ctx.fast else FULL)
    s.update({k: v for k, v in ctx.options.items() if k in s})
    return s


def _model(ctx: ExperimentContext, ds: Any, s: dict[str, Any]) -> tuple[Any, str]:
    if ctx.options.get("run"):
        from advlab.runs import open_run

        run = open_run(ctx.options["run"])
        return run.load_model().eval(), f"run {run.path}"
    recipe = STANDARD_WRN.scaled(epochs=s["epochs"], model_options={"depth": s["depth"], "widen": s["widen"]})
    model, info = train_recipe(ctx, ds, recipe, ctx.seed, f"wrn-{s['depth']}-{s['widen']}")
    return model, f"WRN-{s['depth']}-{s['widen']} trained here for {s['epochs']} epoch(s) on {len(ds.x_train)} images"


def _pick(model: Any, ds: Any, s: dict[str, Any], seed: int) -> tuple[int, torch.Tensor, str]:
    """The first test image the model gets right and PGD fools (else the first PGD fools, else image 0)."""
    x, y = ds.x_test[: s["search"]], ds.y_test[: s["search"]]
    result = ATTACKS.create("pgd", norm="linf", steps=s["pgd_steps"], rel_stepsize=2.5 / s["pgd_steps"])(
        model, x, y, eps=[s["eps"]], seed=seed
    )
    correct = model.predict(x).cpu() == y
    for mask, how in ((correct & result.success[0], "correct, fooled by PGD"), (result.success[0], "fooled by PGD")):
        if mask.any():
            i = int(mask.nonzero()[0])
            return i, result.adversarials[0, i], how
    return 0, result.adversarials[0, 0], "PGD failed on every searched image: b is its last iterate"


def run(ctx: ExperimentContext) -> ExperimentResult:
    import matplotlib.pyplot as plt

    s = _settings(ctx)
    ds = load_cifar10(ctx, s["limit_train"], s["limit_test"])
    model, origin = _model(ctx, ds, s)
    model = model.cpu()
    accuracy = float((model.predict(ds.x_test).cpu() == ds.y_test).float().mean())
    index, b, how = _pick(model, ds, s, ctx.seed)
    a = ds.x_test[index]
    size = 2.0 * float((b - a).norm())
    strategies: dict[str, ThirdPoint] = {"grey (centre of H)": Grey(), "random image": RandomImage(), "random perturbation": RandomPerturbation(size)}
    thirds = {name: third_point(strategy, model, a, b, generator=torch.Generator().manual_seed(ctx.seed))
              for name, strategy in strategies.items()}  # fmt: skip
    fig, axes = plt.subplots(1, len(thirds), figsize=(6 * len(thirds), 6), squeeze=False,
                             gridspec_kw={"wspace": 0.7, "left": 0.05, "right": 0.9, "top": 0.85, "bottom": 0.12})  # fmt: skip
    rows = []
    for ax, (name, c) in zip(axes.flat, thirds.items()):
        data = compute_slice(model, a, b, c, resolution=s["resolution"])
        SliceDisplay(data).plot(ax, title=f"c = {name}", images=(a, b, c), legend=ax is axes.flat[-1])
        counts = component_counts(data)
        rows.append({"third point": name, "inside H %": round(100 * float(data.feasible.mean()), 1),
                     "classes seen": sum(v > 0 for v in counts.values()), "regions (4-conn.)": sum(counts.values())})  # fmt: skip
    scale = (f"CIFAR-10 ({len(ds.x_train)} training, {len(ds.x_test)} test images); model: {origin}; test accuracy "
             f"{100 * accuracy:.1f}%; image {index} ({how}); PGD-{s['pgd_steps']} L∞ at ε = {s['eps']:.4g}; slices "
             f"{s['resolution']}×{s['resolution']}. Full scale: WRN-28-10, 200 epochs (the paper's model).")  # fmt: skip
    return ExperimentResult(
        name="slices-cifar10",
        title="Decision regions of a Wide ResNet on slices through a CIFAR-10 image and its adversarial",
        summary=("Each panel is the plane through a test image a, its PGD adversarial b and a third point c, cut to "
                 "the box of valid images. The adversarial sits a hair away from a, yet across a class boundary; "
                 "the regions far from the data are large and confidently labelled."),
        metrics={"settings": s, "test_accuracy": accuracy, "image": index, "image_choice": how, "model": origin,
                 "slices": rows},  # fmt: skip
        figures={"slices": fig},
        captions={"slices": "Class per point of the slice (lightness: confidence), grey outside the image box."},
        scale=scale,
        tables={"slices": rows},
    )
