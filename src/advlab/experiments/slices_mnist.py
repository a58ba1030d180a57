"""Decision regions on 2-D slices of the input box (Świrszczyński, O'Donoghue & Kohli).

A small CNN on MNIST (the embedded 8×8 digits in fast mode): one test image a, its PGD
adversarial b and one third point c per strategy (grey, random image, random
perturbation, another attack, another seed, another test image) give a grid of slices;
the same adversarial direction seen globally and locally; church windows; probability
profiles along a → b → c → a; the count of connected class regions; and two images of one
class whose straight segment leaves the class, shown disconnected in one slice and
connected in a slice through another third point (the paper's Fig. 3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from advlab.attacks import ATTACKS, FGSM, DeepFool
from advlab.data import load
from advlab.experiments.recipes import Recipe
from advlab.experiments.recipes import trained_model as cached_model
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult
from advlab.models import Model
from advlab.runs import open_run
from advlab.viz import ChurchDisplay, ProfileDisplay, SliceDisplay, compute_church_windows, compute_profiles, compute_slice
from advlab.viz.components import component_counts, disconnected_pairs, find_connecting_slice
from advlab.viz.third_points import Grey, OtherAttack, OtherSeed, RandomImage, RandomPerturbation, third_point

FULL = {"data": "mnist", "epochs": 2, "limit_train": None, "eps": 0.1, "pgd_steps": 40, "resolution": 200,
        "church_resolution": 64, "church_images": 4, "profile_points": 300, "pair_search": 400, "pair_tries": 20000, "candidates": 40, "index": None, "church_attack": "pgd-l2",
        "church_eps": 2.5, "church_center": "midpoint"}
FAST = {"data": "digits", "epochs": 3, "limit_train": None, "eps": 0.2, "pgd_steps": 20, "resolution": 64,
        "church_resolution": 24, "church_images": 4, "profile_points": 80, "pair_search": 360, "pair_tries": 60000, "candidates": 16, "index": None, "church_attack": "pgd-l2",
        "church_eps": 1.0, "church_center": "midpoint"}


def settings(ctx: ExperimentContext, full: dict[str, Any], fast: dict[str, Any]) -> dict[str, Any]:
    s = dict(fast if ctx.fast else full)
    s.update({k: v for k, v in ctx.options.items() if k in s})
    return s


def trained_model(ctx: ExperimentContext, ds: Any, family: str, *, epochs: int, seed: int, method: str = "standard",
                  eps: float | None = None, options: dict[str, Any] | None = None, lr: float = 3e-3) -> Model:
    """Train (or reuse the copy cached in ctx.out_dir/models for the same recipe and data) a zoo model on ``ds``."""
    recipe = Recipe(family, epochs, seed, model_options=options or {}, method=method,
                    method_options={} if eps is None else {"eps": eps}, lr=lr)
    return cached_model(recipe, ds, ctx.out_dir / "models", device=ctx.device, quiet=ctx.quiet)


def model_and_data(ctx: ExperimentContext, s: dict[str, Any]) -> tuple[Model, Any, str]:
    """The standard cnn-small: from option ``run=`` or trained here; its dataset; where it came from."""
    if ctx.options.get("run"):
        run = open_run(ctx.options["run"])
        return run.load_model().cpu().eval(), run.load_data(ctx.data_dir, quiet=ctx.quiet), f"run {run.path}"
    ds = load(s["data"], data_dir=ctx.data_dir, quiet=ctx.quiet, limit_train=s["limit_train"])
    model = trained_model(ctx, ds, "cnn-small", epochs=s["epochs"], seed=ctx.seed)
    return model, ds, f"cnn-small trained here for {s['epochs']} epoch(s) on {len(ds.x_train)} {ds.name} images"


def pgd(s: dict[str, Any]) -> Any:
    return ATTACKS.create("pgd", norm="linf", steps=s["pgd_steps"], rel_stepsize=2.5 / s["pgd_steps"])


def church_attack(s: dict[str, Any]) -> tuple[Any, float | None]:
    """The attack behind the church windows' adversarial directions, and its ε (None: a minimisation attack).

    ``pgd-l2`` (default): L2 PGD of size ``church_eps`` within the face of H: past the boundary (so the adversarial
    region shows in the window) yet short enough for the window around a → ☆ to stay mostly in H;
    ``fmn``: the minimal L2 adversarial within the face, so ☆ marks the nearest boundary (on it: little shows);
    ``pgd``: the L∞ PGD of the slices (at ε = 0.1 it rarely fools an MNIST model through the free pixels alone).
    """
    if s["church_attack"] == "pgd":
        return pgd(s), s["eps"]
    if s["church_attack"] == "pgd-l2":
        return ATTACKS.create("pgd", norm="l2"), float(s["church_eps"])
    if s["church_attack"] == "fmn":
        return ATTACKS.create("fmn", norm="l2"), None
    raise ValueError(f"slices: church_attack must be 'pgd-l2', 'fmn' or 'pgd', got {s['church_attack']!r}")


def pick_image(model: Model, ds: Any, s: dict[str, Any], seed: int, n: int = 32) -> tuple[int, torch.Tensor]:
    """The first test image (from option index=) that the model gets right and PGD fools; and its adversarial."""
    start = int(s["index"] or 0)
    x, y = ds.x_test[start : start + n], ds.y_test[start : start + n]
    result = pgd(s)(model, x, y, eps=s["eps"], seed=seed)
    good = (model.predict(x).cpu() == y) & result.success[0]
    if not good.any():
        raise ValueError(f"slices: PGD at eps={s['eps']} fooled none of the test images {start}..{start + n - 1}; raise eps=")
    i = int(torch.nonzero(good)[0])
    return start + i, result.adversarials[0, i]


def _third_points(model: Model, ds: Any, a: torch.Tensor, b: torch.Tensor, s: dict[str, Any], seed: int) -> dict[str, torch.Tensor]:
    pred = model.predict(a[None]).item()
    other = int(torch.nonzero(model.predict(ds.x_test[:200]).cpu() != pred)[0])
    size = 2.0 * float((b - a).norm())
    atk = pgd(s)

    def c(strategy: Any) -> torch.Tensor:
        return third_point(strategy, model, a, b, attack=atk, eps=s["eps"], generator=torch.Generator().manual_seed(seed))

    out = {
        "grey (centre of H)": c(Grey()),
        "random image": c(RandomImage()),
        f"random perturbation (L2 {size:.2g})": c(RandomPerturbation(size=size, norm="l2")),
        "FGSM adversarial": c(OtherAttack(FGSM(), s["eps"])),
    }
    try:
        out["PGD, another random start"] = c(OtherSeed(seed + 1))
    except ValueError:  # every random start converged to the same corner of the ε-ball: b itself
        out["DeepFool adversarial (PGD starts all reach b)"] = c(OtherAttack(DeepFool()))
    out[f"test image {other}"] = c(ds.x_test[other])
    return out


def _slice_row(name: str, data: Any) -> dict[str, Any]:
    counts = component_counts(data)
    return {"third point": name, "inside H %": round(100 * float(data.feasible.mean()), 1),
            "classes seen": sum(v > 0 for v in counts.values()), "regions (4-conn.)": sum(counts.values()),
            "largest class count": max(counts.values()), "components": {k: v for k, v in counts.items() if v}}


def _grid(slices: dict[str, Any], images: dict[str, tuple[Any, Any, Any]], ncols: int = 3) -> Any:
    """Slices side by side, each with its thumbnails; a fixed layout (no tight_layout afterwards): SliceDisplay
    places the thumbnails for the box each panel is drawn in, clear of the neighbouring panels."""
    import matplotlib.pyplot as plt

    n = len(slices)
    rows = -(-n // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(5.4 * ncols + 1.2, 6.0 * rows), squeeze=False,
                             gridspec_kw={"wspace": 0.7, "hspace": 1.05, "left": 0.06, "right": 0.9, "top": 0.9, "bottom": 0.1})
    for ax, (name, data) in zip(axes.flat, slices.items()):
        SliceDisplay(data).plot(ax, title=name, images=images[name], legend=ax is axes.flat[min(n, ncols) - 1])
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig


def _profiles_figure(model: Model, a: torch.Tensor, b: torch.Tensor, thirds: dict[str, torch.Tensor], points: int) -> tuple[Any, dict[str, Any]]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(thirds), 1, figsize=(9, 3.4 * len(thirds)), squeeze=False)
    changes = {}
    for ax, (name, c) in zip(axes[:, 0], thirds.items()):
        data = compute_profiles(model, a, b, c, points=points)
        ProfileDisplay(data).plot(ax, title=f"c = {name}")
        changes[name] = [data.class_changes(k) for k in range(3)]
    fig.tight_layout()
    return fig, changes


def _pairs(model: Model, ds: Any, s: dict[str, Any]) -> list[tuple[str, torch.Tensor, str, torch.Tensor]]:
    """Pairs of images of one predicted class whose straight segment leaves the class, from the first test
    images and then training images (a small model's regions are often star-shaped around test images)."""
    n = min(s["pair_search"], len(ds.x_test))
    pool = torch.cat([ds.x_test[:n], ds.x_train[: 4 * n]])
    name = lambda k: f"test image {k}" if k < n else f"training image {k - n}"  # noqa: E731
    found = disconnected_pairs(model, pool, max_pairs=3, max_tries=s["pair_tries"])
    return [(name(i), pool[i], name(j), pool[j]) for i, j in found]


def _connectivity(model: Model, ds: Any, s: dict[str, Any], seed: int) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    import matplotlib.pyplot as plt

    pairs = _pairs(model, ds, s)
    info: dict[str, Any] = {"pairs_tried": [(p[0], p[2]) for p in pairs], "found": False}
    if not pairs:
        return None, info, []
    for name_a, a, name_b, b in pairs:
        cands = {"grey": third_point(Grey(), model, a)}
        cands.update({f"random image {k}": third_point(RandomImage(), model, a, generator=torch.Generator().manual_seed(seed + k))
                      for k in range(3)})
        cands.update({f"test image {k}": ds.x_test[k] for k in range(s["candidates"])
                      if not (torch.equal(ds.x_test[k], a) or torch.equal(ds.x_test[k], b))})
        res = find_connecting_slice(model, a, b, cands, resolution=s["resolution"])
        info.update({"a": name_a, "b": name_b, "class": res.class_name, "segment_classes": res.segment_classes,
                     "found": res.found, "disconnected_in": res.disconnected_name, "connected_in": res.connected_name,
                     "slices_tried": len(res.tried)})
        if res.found and res.disconnected is not None:
            break
    fig, axes = plt.subplots(1, 2, figsize=(13, 6), squeeze=False, gridspec_kw={"wspace": 0.6, "left": 0.08, "right": 0.88, "top": 0.8, "bottom": 0.16})
    for ax, data, name, verdict in ((axes[0, 0], res.disconnected, res.disconnected_name, "disconnected"),
                                    (axes[0, 1], res.connected, res.connected_name, "connected")):
        if data is None:
            ax.set_visible(False)
            continue
        c = torch.as_tensor(data.to_input(data.anchors[2]), dtype=torch.float32)
        SliceDisplay(data).plot(ax, images=(a, b, c), legend=verdict == "connected",
                                title=f"c = {name}: a, b {verdict} in class {res.class_name}")
    return fig, info, res.tried


def run(ctx: ExperimentContext) -> ExperimentResult:
    s = settings(ctx, FULL, FAST)
    model, ds, origin = model_and_data(ctx, s)
    res_px = s["resolution"]
    accuracy = float((model.predict(ds.x_test).cpu() == ds.y_test).float().mean())
    index, b = pick_image(model, ds, s, ctx.seed)
    a = ds.x_test[index]
    delta = b - a
    thirds = _third_points(model, ds, a, b, s, ctx.seed)
    slices = {name: compute_slice(model, a, b, c, resolution=res_px) for name, c in thirds.items()}
    rows = [_slice_row(name, data) for name, data in slices.items()]
    figures = {"third_points": _grid(slices, {n: (a, b, c) for n, c in thirds.items()})}

    # Local versus global: one plane (through the grey image, side b − a), the whole slice and a window of
    # ±0.75‖b − a‖ around a and b (just wide enough to hold both), reaching upwards: a sits on the boundary of H.
    grey = thirds["grey (centre of H)"]
    half = 0.75 * float(delta.norm())
    views = {"global: the whole slice": slices["grey (centre of H)"],
             f"local: ±{half:.2g} (L2) around a, b": compute_slice(model, a, b, grey, resolution=res_px, half_width=half,
                                                                  zoom_center=(half / 1.5, 0.55 * half))}
    figures["local_global"] = _grid(views, {n: (a, b, grey) for n in views}, ncols=2)
    local_rows = [_slice_row(name, data) for name, data in views.items()]

    church_x = ds.x_test[index : index + s["church_images"]]
    church_atk, church_eps = church_attack(s)
    church = compute_church_windows(model, church_x, ds.y_test[index : index + len(church_x)], attack=church_atk, eps=church_eps,
                                    resolution=s["church_resolution"], seed=ctx.seed, center=s["church_center"])
    inside = float(church.feasible.mean())
    per_window = church.feasible.mean(axis=(2, 3))  # (N, K)
    adversarial_kinds = [k != "random" for k in church.kinds]
    church_outside = "grey" if inside >= 0.5 else "faded"  # grey hides a window that is mostly outside H
    figures["church_windows"] = ChurchDisplay(church).plot(outside=church_outside).figure_
    profile_thirds = {k: thirds[k] for k in ("grey (centre of H)", "random image")}
    figures["profiles"], changes = _profiles_figure(model, a, b, profile_thirds, s["profile_points"])
    conn_fig, connectivity, tried = _connectivity(model, ds, s, ctx.seed)
    if conn_fig is not None:
        figures["connectivity"] = conn_fig

    pred = lambda x: ds.class_names[int(model.predict(x[None]).item())]  # noqa: E731
    metrics = {
        "settings": s, "model": origin, "test_accuracy": accuracy, "image_index": index, "class_a": pred(a), "class_b": pred(b),
        "adversarial_l2": float(delta.norm()), "adversarial_linf": float(delta.abs().max()),
        "slices": rows, "local_global": local_rows, "profile_class_changes": changes,
        "church": {"radius": church.radius, "inside_H_fraction": inside, "face": church.face, "drawn_outside_H": church_outside,
                   "inside_radius_median": float(np.median(church.inside_radius)),
                   "adversarial_windows_fooled": float(church.fooled[:, [k != "random" for k in church.kinds]].mean()),
                   "kinds": list(church.kinds), "center": church.center,
                   "image_is_prediction": float((church.image_labels == church.predictions[:, None]).mean()),
                   "inside_H_by_kind": {k: float(per_window[:, j].mean()) for j, k in enumerate(church.kinds)},
                   "windows_at_least_half_inside_by_kind": {k: float((per_window[:, j] >= 0.5).mean()) for j, k in enumerate(church.kinds)},
                   "adversarial_axis_crosses_boundary": float(church.crosses_boundary()[:, adversarial_kinds].mean())},
        "connectivity": connectivity,
        "component_counts": {r["third point"]: r["components"] for r in rows},
    }
    captions = {
        "third_points": "Slices through a test image a (○), its PGD adversarial b (☆) and a third point c (□), one per strategy. "
                        "Hue = the class, lightness = its probability; hatched grey = the rectangle outside the box H.",
        "local_global": "One plane (through a, b and the grey image; horizontal axis along b − a): the whole slice and a "
                        "small window around a and b.",
        "church_windows": "Church windows centred on test images (same half-width everywhere): adversarial × random ⊥, "
                          "random × random and targeted × random directions, all within the face of H containing the image "
                          f"(pixels at 0 or 1 stay fixed; ☆ = the {church.source} adversarial found by moving only the other "
                          "pixels; random directions weighted by each pixel's room to its nearer bound"
                          f"{'; adversarial windows centred between ○ and ☆' if church.center == 'midpoint' else ''}). "
                          f"{'Grey' if church_outside == 'grey' else 'Faded'}: outside H "
                          f"({100 * inside:.1f}% of the window pixels are inside).",
        "profiles": "Class probabilities along a → b → c → a (dashed lines at the anchors).",
        "connectivity": (f"a = {connectivity.get('a')}, b = {connectivity.get('b')}, both predicted "
                         f"{connectivity.get('class')}; the straight segment a → b meets classes "
                         f"{', '.join(connectivity.get('segment_classes', []))}. Left: a slice where a and b lie in different "
                         "components of their class; right: a slice through another third point where one component holds "
                         "both (4-connectivity, at the slice's pixel resolution)."),
    }
    comparisons = [
        Comparison("a and b of one class: disconnected in one slice, connected in another", float(connectivity.get("found", False)),
                   "shown (Fig. 3)", "", "1 = found here"),
        Comparison("church windows: share of window pixels inside H", 100 * inside, "qualitative", "%",
                   f"directions within the face of H; a whole window fits in H only up to half-width "
                   f"{np.median(church.inside_radius):.2g} (median), against {church.radius:.2g} drawn"),
    ]
    scale = (f"{'fast mode: ' if ctx.fast else ''}{origin}; test accuracy {100 * accuracy:.1f}%; PGD L∞ ε = {s['eps']} "
             f"({s['pgd_steps']} steps); slices {res_px}×{res_px}, church windows {s['church_resolution']}² "
             f"({len(church_x)} images × {len(church.kinds)} kinds, adversarial directions from {church.source}); same-class pairs searched among the first {s['pair_search']} "
             f"test and {4 * s['pair_search']} training images (at most {s['pair_tries']} pairs).")
    captions = {k: v for k, v in captions.items() if k in figures}
    return ExperimentResult(
        name="slices-mnist", title="Decision regions on slices through an image, its adversarial and a third point",
        summary=_summary(metrics, rows, local_rows, church), metrics=metrics, figures=figures, captions=captions,
        comparisons=comparisons, scale=scale, tables={"slices": rows, "local_global": local_rows, "connectivity_search": tried},
    )


def _summary(m: dict[str, Any], rows: list[dict[str, Any]], local: list[dict[str, Any]], church: Any) -> str:
    regions = [r["regions (4-conn.)"] for r in rows]
    conn = m["connectivity"]
    if conn.get("found"):
        joined = (f"{conn['a'].capitalize()} and {conn['b']} are both {conn['class']}, yet the straight segment between them "
                  f"passes through {', '.join(c for c in conn['segment_classes'] if c != conn['class'])}; in the slice "
                  f"through '{conn['disconnected_in']}' they look disconnected, in the slice through '{conn['connected_in']}' one "
                  "region of their class holds both: one slice cannot show whether a class region is connected.")
    elif conn.get("pairs_tried"):
        joined = f"The connectivity search tried {len(conn['pairs_tried'])} pair(s) and found no slice joining them."
    else:
        joined = "The connectivity search found no same-class pair whose straight segment leaves the class."
    return (
        f"Test image {m['image_index']} ({m['class_a']}) and its PGD adversarial ({m['class_b']}, L2 distance "
        f"{m['adversarial_l2']:.2f}, L∞ {m['adversarial_linf']:.2g}) sit on either side of a decision boundary in every slice "
        f"through them. Each slice is the smallest rectangle containing the plane ∩ H; pixels outside the box H (grey, "
        f"hatched) are not images and are never evaluated: only {min(r['inside H %'] for r in rows):.0f}–"
        f"{max(r['inside H %'] for r in rows):.0f}% of each rectangle is inside H. The slices show {min(regions)}–{max(regions)} "
        f"connected class regions (4-connectivity). The local view around a and b shows {local[1]['classes seen']} classes "
        f"(a boundary crossed by the short step from a to b); the whole slice, in the same plane, shows "
        f"{local[0]['classes seen']}: the local picture says nothing about the global one. "
        f"{_church_sentence(m['church'])} {joined}"
    )


def _church_sentence(c: dict[str, Any]) -> str:
    inside = 100 * c["inside_H_fraction"]
    by_kind = "; ".join(f"{k}: {100 * v:.0f}% inside H on average, {100 * c['windows_at_least_half_inside_by_kind'][k]:.0f}% of "
                        "the windows at least half inside" for k, v in c["inside_H_by_kind"].items())
    text = (f"The church windows use directions within the face of H containing each image (pixels at 0 or 1 stay fixed; "
            f"the attack too may move only the other pixels; random directions weighted by each pixel's room"
            f"{'; adversarial windows centred between the image and ☆' if c.get('center') == 'midpoint' else ''}); "
            f"{inside:.2g}% of their pixels are inside H ({by_kind}); the adversarial axis crosses a decision boundary "
            f"inside H in {100 * c['adversarial_axis_crosses_boundary']:.0f}% of the adversarial windows. ")
    if inside < 50:
        text += (f"The rest leaves H because many of the free pixels lie close to a bound (the soft edges of the strokes): a "
                 f"whole window stays inside H only up to a half-width of {c['inside_radius_median']:.2g} (median), against the "
                 f"{c['radius']:.2g} drawn (twice the median distance to ☆); outside H the windows are drawn faded, showing "
                 "the model off the valid images.")
    return text + (f" The attack within the face fooled the model in {100 * c['adversarial_windows_fooled']:.0f}% of the "
                   "adversarial windows (a hollow star where it did not).")
