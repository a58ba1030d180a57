"""A 2-unit bottleneck MLP on digits 0–3: far points of its hidden space give confident non-digits.

From the blog post "I pity the fool, deep learning style" (its neural-network
part). The network is ``features`` (input → 2 numbers) then a linear ``head``
(2 → 4 logits), so its hidden space is a plane cut into four regions, just like
the iris model's input plane. Points far out in each region get near-certain
answers from the head; optimising an input image so that ``features`` maps it
towards such a point gives an image the network calls a digit with ≥ 99%
probability although it looks like no digit at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advlab.data import Dataset, load
from advlab.data.errors import DatasetError
from advlab.experiments.registry import Comparison, ExperimentContext, ExperimentResult
from advlab.models import Model, build
from advlab.progress import echo
from advlab.train import fit
from advlab.viz.hidden import draw_targets, head_regions, limits_around
from advlab.viz.image_grid import image_grid
from advlab.viz.regions import RegionDisplay

CLASSES = (0, 1, 2, 3)
DATA_CHOICES = ("digits", "mnist", "auto")
# (hidden widths, epochs, fast epochs, batch size, learning rate) per dataset
TRAINING = {"digits": ([64, 32], 60, 30, 32, 3e-3), "mnist": ([256, 64], 8, 3, 128, 1e-3)}
FAST_MNIST_LIMITS = (6000, 1000)
REQUIRED_PROBABILITY = 0.99


def load_data(ctx: ExperimentContext) -> Dataset:
    """digits 0–3 (embedded), or MNIST 0–3: ``data="mnist"`` fetches it, ``"auto"`` uses it only if already there."""
    choice = str(ctx.options.get("data", "digits"))
    if choice not in DATA_CHOICES:
        raise ValueError(f"bottleneck-fooling: option data must be one of {DATA_CHOICES}, got {choice!r}")
    if choice != "digits":
        limits = dict(zip(("limit_train", "limit_test"), FAST_MNIST_LIMITS, strict=True)) if ctx.fast else {}
        try:
            return load("mnist", classes=CLASSES, data_dir=ctx.data_dir, download=choice == "mnist", quiet=ctx.quiet, **limits)
        except DatasetError:
            if choice == "mnist":
                raise
            echo("MNIST is not in the data folder (and data=auto does not download it): using the embedded digits", ctx.quiet)
    return load("digits", classes=CLASSES, quiet=ctx.quiet)


def train_bottleneck(ds: Dataset, ctx: ExperimentContext) -> tuple[Model, Any]:
    widths, epochs, fast_epochs, batch, lr = TRAINING["mnist" if ds.name == "mnist" else "digits"]
    mean, std = float(ds.x_train.mean()), float(ds.x_train.std())
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, widths=widths,
                  bottleneck=2, mean=mean, std=std, seed=ctx.seed)  # fmt: skip
    history = fit(model, ds, epochs=fast_epochs if ctx.fast else epochs, batch_size=batch, lr=lr, seed=ctx.seed,
                  device=ctx.device, quiet=ctx.quiet)  # fmt: skip
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, history


@torch.no_grad()
def embed(model: Model, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The 2-D hidden representation of every input."""
    feats = model.net.features
    return torch.cat([feats(x[i : i + batch_size].to(model.device)).cpu() for i in range(0, len(x), batch_size)])


def far_targets(head: torch.nn.Module, hidden: torch.Tensor, radius_factor: float, n_angles: int = 720) -> dict[int, torch.Tensor]:
    """One far point per class whose region reaches infinity: ``radius_factor`` × the data's radius from the centre
    of the embeddings, in the middle of the arc of directions that class wins far away (where the bias no longer
    matters, so the arc comes from the weights alone)."""
    if not isinstance(head, torch.nn.Linear) or head.in_features != 2:
        raise TypeError(f"far_targets: expected the network's head as torch.nn.Linear(2, K), got {head!r}")
    weight, bias = head.weight.detach().cpu().double(), head.bias.detach().cpu().double()
    centre = hidden.double().mean(0)
    radius = float((hidden.double() - centre).norm(dim=1).max())
    step = 2 * math.pi / n_angles
    angles = torch.arange(n_angles, dtype=torch.float64) * step
    winners = (torch.stack([angles.cos(), angles.sin()], 1) @ weight.T).argmax(1)
    out = {}
    for k in range(weight.shape[0]):
        run = _longest_circular_run(winners == k)
        if run is None:
            continue
        angle = (run[0] + (run[1] - 1) / 2) * step
        point = centre + radius_factor * radius * torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)
        if int((weight @ point + bias).argmax()) == k:  # far enough that the class really wins there
            out[k] = point.float()
    return out


def _longest_circular_run(mask: torch.Tensor) -> tuple[int, int] | None:
    """(start, length) of the longest run of True in a circular mask."""
    m = mask.tolist()
    n = len(m)
    if not any(m):
        return None
    if all(m):
        return (0, n)
    start = m.index(False) + 1  # begin just after a False so no run wraps
    best, cur = (0, 0), None
    for i in range(start, start + n):
        if m[i % n]:
            cur = (cur[0], cur[1] + 1) if cur else (i, 1)
            best = max(best, cur, key=lambda r: r[1])
        else:
            cur = None
    return best


def invert_features(model: Model, targets: torch.Tensor, *, steps: int, lr: float, seed: int) -> torch.Tensor:
    """Inputs x = sigmoid(z) in [0, 1] minimising ‖features(x) − target‖² (Adam on z, from faint noise)."""
    gen = torch.Generator().manual_seed(seed)
    z = (0.1 * torch.randn(len(targets), *model.input_shape, generator=gen)).to(model.device).requires_grad_(True)
    goal = targets.to(model.device)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        loss = ((model.net.features(torch.sigmoid(z)) - goal) ** 2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return torch.sigmoid(z.detach()).cpu()


def nearest_distances(x: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """L2 distance from each input to its nearest reference input, and that input's index."""
    d = torch.cdist(x.flatten(1).double(), reference.flatten(1).double())
    best = d.min(dim=1)
    return best.values, best.indices


SUMMARY = """\
This network first squeezes each image of a digit 0–3 through two numbers (its "hidden space"), then decides from \
those two numbers alone. So we can draw what it does: each training digit becomes a dot in the plane, and the plane \
is cut by straight lines into four regions, one per digit. The network classifies the test digits well.

But, as with the iris model, the regions go on forever, and the farther a point is from the lines, the more certain \
the network is. We picked one point far out in each region, several times farther from the centre than any real \
digit, and searched for an image (pixel values between 0 and 1) that the network maps as close to that point as it \
can. The pixel range stops the images short of the far points, but they still land beyond the real digits, and the \
network gives each its class with probability ≥ 0.99. They are not digits: saturated black-and-white blobs, \
caricatures that push the network's two numbers further than any real digit does, and each lies much farther from \
its nearest training image than real test digits do. Some still echo the shape of their class (the network's \
notion of "more zero than any zero"); others resemble nothing. The network's confidence measures distance from its \
boundaries, not likeness to what it was taught."""


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Train the bottleneck MLP, pick far hidden points, invert them to images, draw and measure."""
    radius_factor = float(ctx.options.get("radius_factor", 3.0))
    if not radius_factor > 0:
        raise ValueError(f"bottleneck-fooling: radius_factor must be positive, got {radius_factor}")
    steps = int(ctx.options.get("steps", 200 if ctx.fast else 500))
    ds = load_data(ctx)
    model, history = train_bottleneck(ds, ctx)
    test_accuracy = float(history.last.test_accuracy) if history.last and history.last.test_accuracy is not None else float("nan")
    hidden = embed(model, ds.x_train)
    head = model.net.head
    targets = far_targets(head, hidden, radius_factor)
    classes = sorted(targets)
    goal = torch.stack([targets[k] for k in classes])
    images = invert_features(model, goal, steps=steps, lr=0.1, seed=ctx.seed)
    reached = embed(model, images)
    probs = model.predict_proba(images).cpu()
    fool_dist, fool_nearest = nearest_distances(images, ds.x_train)
    test_dist, _ = nearest_distances(ds.x_test, ds.x_train)
    centre = hidden.mean(0)
    radius = float((hidden - centre).norm(dim=1).max())
    names = ds.class_names
    rows = [
        {
            "class": names[k],
            "target hidden point": [round(float(v), 3) for v in goal[i]],
            "reached hidden point": [round(float(v), 3) for v in reached[i]],
            "reached / target distance from centre": float((reached[i] - centre).norm() / (goal[i] - centre).norm()),
            "predicted": names[int(probs[i].argmax())],
            "probability": float(probs[i].max()),
            "distance to nearest training image": float(fool_dist[i]),
        }
        for i, k in enumerate(classes)
    ]
    test_conf = model.predict_proba(ds.x_test).max(dim=1).values
    metrics = {
        "data": ds.name,
        "classes": list(names),
        "train_size": len(ds.x_train),
        "test_size": len(ds.x_test),
        "test_accuracy": test_accuracy,
        "test_mean_top_probability": float(test_conf.mean()),
        "epochs": len(history.epochs),
        "hidden_centre": centre.tolist(),
        "hidden_radius": radius,
        "target_radius": radius_factor * radius,
        "inversion_steps": steps,
        "fooling": rows,
        "classes_without_far_region": [names[k] for k in range(len(names)) if k not in targets],
        "fooling_min_probability": float(probs.max(dim=1).values.min()),
        "fooling_mean_nearest_train_distance": float(fool_dist.mean()),
        "test_mean_nearest_train_distance": float(test_dist.mean()),
        "test_max_nearest_train_distance": float(test_dist.max()),
    }
    fooling_labels = [f"'{names[int(p.argmax())]}' {float(p.max()):.3f}" for p in probs]
    figures = {
        "hidden_space": _hidden_figure(model, hidden, ds, test_accuracy),
        "far_points": _far_figure(model, hidden, ds, goal, reached, classes, fooling_labels),
        "fooling_images": _images_figure(ds, model, images, probs, fool_dist, fool_nearest, classes),
    }
    captions = {
        "hidden_space": "Training digits in the 2-D bottleneck, coloured by true class, over the head's decision regions.",
        "far_points": f"Stars: hidden points {radius_factor:g}× the data's radius from its centre, one per region that "
        "reaches infinity; crosses: where the optimised images actually land (the input box [0,1] limits how far "
        "they get); labels: the class and probability the network gives those images. Dashed contours: top probability.",
        "fooling_images": "Top: the training digit the network is most sure of, per class. Middle: images optimised "
        "towards the far hidden points, with the network's class and probability. Bottom: each one's nearest training "
        "image (L2 distance d).",
    }  # fmt: skip
    comparisons = [
        Comparison("bottleneck MLP test accuracy (digits 0–3)", 100 * test_accuracy, None, "%", "the post gives no number"),
        Comparison("lowest probability among fooling images", metrics["fooling_min_probability"], None, "",
                   f"required ≥ {REQUIRED_PROBABILITY}; the post shows confident non-digits"),
        Comparison("mean distance to nearest training image: fooling / test", metrics["fooling_mean_nearest_train_distance"]
                   / metrics["test_mean_nearest_train_distance"], None, "", "> 1: farther from the data than real digits"),
    ]  # fmt: skip
    widths = TRAINING["mnist" if ds.name == "mnist" else "digits"][0]
    scale = (
        f"{ds.name}, classes 0–3: {len(ds.x_train)} training / {len(ds.x_test)} test images; MLP {widths} → 2 (linear) → 4, "
        f"{len(history.epochs)} epochs (seed {ctx.seed}); far points at {radius_factor:g}× the data radius; "
        f"{steps} Adam steps per image" + (" (--fast)." if ctx.fast else ".")
    )
    return ExperimentResult("bottleneck-fooling", "Bottleneck MLP: confident non-digits from far hidden points", SUMMARY,
                            metrics, figures, captions, comparisons, scale, {"Fooling images": rows})  # fmt: skip


def _hidden_figure(model: Model, hidden: torch.Tensor, ds: Dataset, accuracy: float) -> Any:
    xl, yl = limits_around(hidden.numpy())
    display = RegionDisplay(head_regions(model.net.head, xl, yl, ds.class_names))
    return display.plot(points=hidden.numpy(), point_labels=ds.y_train.numpy(), point_size=10, legend_loc="best", fade=0.45,
                        title=f"2-D hidden space, {ds.name} 0–3 (test accuracy {100 * accuracy:.1f}%)").figure_  # fmt: skip


def _far_figure(model: Model, hidden: torch.Tensor, ds: Dataset, goal: torch.Tensor, reached: torch.Tensor,
                classes: list[int], labels: list[str]) -> Any:  # fmt: skip
    xl, yl = limits_around(np.concatenate([hidden.numpy(), goal.numpy(), reached.numpy()]), pad=0.12)
    display = RegionDisplay(head_regions(model.net.head, xl, yl, ds.class_names))
    display.plot(points=hidden.numpy(), point_labels=ds.y_train.numpy(), point_size=5, contours=(0.9, 0.99), fade=0.45,
                 legend_loc="best", title="Far points of the hidden space and where the fooling images land")  # fmt: skip
    draw_targets(display.ax_, goal.numpy(), reached.numpy(), classes, labels)
    return display.figure_


def _images_figure(ds: Dataset, model: Model, images: torch.Tensor, probs: torch.Tensor, dist: torch.Tensor,
                   nearest: torch.Tensor, classes: list[int]) -> Any:  # fmt: skip
    names = ds.class_names
    train_probs = model.predict_proba(ds.x_train).cpu()
    typical = [int(torch.where(ds.y_train == k, train_probs[:, k], -1.0).argmax()) for k in classes]
    rows = [[ds.x_train[i] for i in typical], list(images), [ds.x_train[int(j)] for j in nearest]]
    titles = [
        [f"'{names[k]}' {float(train_probs[i, k]):.3f}" for i, k in zip(typical, classes, strict=True)],
        [f"→ '{names[int(p.argmax())]}' {float(p.max()):.3f}" for p in probs],
        [f"'{names[int(ds.y_train[int(j)])]}', d = {float(d):.2f}" for j, d in zip(nearest, dist, strict=True)],
    ]
    return image_grid(rows, titles, row_labels=("real digit", "fooling image", "nearest train"))
