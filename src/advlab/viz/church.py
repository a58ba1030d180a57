"""Church-window grids (Warde-Farley & Goodfellow; Świrszczyński et al., Fig. 4).

Each window is a small square slice centred on an image a, spanned by two orthonormal
directions: ``"adversarial"`` = the normalised adversarial direction (adv − a)/‖adv − a‖
(or the loss gradient) × a random direction orthogonal to it; ``"random"`` = random ×
random; ``"targeted"`` = the direction of a targeted adversarial (towards the runner-up
class by default) × random. Every window has the same half-width ``radius`` (input-space
L2), so windows compare at one scale.

The windows are evaluated directly on the grid a + s·e₁ + t·e₂, also outside the box H:
an image with saturated pixels sits on the boundary of H, so most of a small window
around it is outside H. ``feasible`` marks the pixels inside H; the display draws the rest
grey (``outside="grey"``, as every slice) or shows the model's labels there faded and
hatched (``outside="faded"``) to reveal what the model does just off the valid images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.attacks import Attack
from advlab.models.model import Model
from advlab.viz.colors import INFEASIBLE_GREY, region_rgba
from advlab.viz.slice_geometry import Extent, pixel_centres
from advlab.viz.third_points import adversarial_of, resolve_attack

KINDS = {
    "adversarial": ("adversarial", "random ⊥"),
    "random": ("random", "random ⊥"),
    "targeted": ("targeted adversarial", "random ⊥"),
}


@dataclass
class ChurchData:
    """N images × K kinds of windows, each R × R over the same square extent."""

    labels: np.ndarray  # (N, K, R, R) int64, evaluated everywhere (also outside H)
    probabilities: np.ndarray  # (N, K, R, R, C) float32
    feasible: np.ndarray  # (N, K, R, R) bool: pixel centre inside H
    directions: np.ndarray  # (N, K, 2, d) orthonormal (e₁ horizontal, e₂ vertical)
    step: np.ndarray  # (N, K) position s of the adversarial on the e₁ axis (NaN for random windows)
    extent: Extent  # ((−r, r), (−r, r)), shared
    kinds: tuple[str, ...]
    images: np.ndarray  # (N, *input_shape)
    true_labels: np.ndarray  # (N,), −1 when unknown
    predictions: np.ndarray  # (N,) the model's class at each image
    targets: np.ndarray  # (N,) target of the targeted windows (−1 when not drawn)
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    source: str  # what made the adversarial directions

    @property
    def radius(self) -> float:
        return float(self.extent[0][1])

    @property
    def resolution(self) -> int:
        return int(self.labels.shape[-1])

    @property
    def centre_labels(self) -> np.ndarray:
        """(N, K) label of the centre pixel region (the image's own class when the window is fine enough)."""
        r = self.resolution
        return self.labels[:, :, r // 2, r // 2]


def _unit(v: torch.Tensor) -> torch.Tensor:
    n = float(v.norm())
    if n == 0.0 or not np.isfinite(n):
        raise ValueError("church windows: a direction is zero (the attack or gradient left the image unchanged)")
    return v / n


def _orthogonal_random(e1: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    g = torch.randn(e1.shape, generator=gen, dtype=torch.float64)
    g = g - (g @ e1) * e1
    return _unit(g - (g @ e1) * e1)


def _gradient_direction(model: Model, a: torch.Tensor, label: int, target: int | None) -> torch.Tensor:
    """Steepest L2 ascent of the cross-entropy of ``label`` (or descent towards ``target``)."""
    x = a[None].clone().to(model.device).requires_grad_(True)
    was = model.training
    model.eval()
    try:
        logits = model(x)
        y = torch.tensor([label if target is None else target], device=model.device)
        loss = torch.nn.functional.cross_entropy(logits, y)
        (g,) = torch.autograd.grad(loss if target is None else -loss, x)
    finally:
        model.train(was)
    return g[0].detach().cpu().double().reshape(-1)


def _adversarial_direction(model: Model, a: torch.Tensor, label: int, target: int | None, attack: Attack | None,
                           eps: float | None, seed: int) -> tuple[torch.Tensor, float]:
    if attack is None:
        g = _gradient_direction(model, a, label, target)
        return _unit(g), float("nan")
    adv = adversarial_of(model, a, attack, eps=eps, label=label, target=target, seed=seed)
    delta = (adv - a).double().reshape(-1)
    return _unit(delta), float(delta.norm())


def compute_church_windows(
    model: Model,
    x: torch.Tensor,
    y: Any = None,
    *,
    attack: Attack | str = "pgd",
    eps: float | None = None,
    kinds: Sequence[str] = ("adversarial", "random", "targeted"),
    targets: Any = None,
    radius: float | None = None,
    resolution: int = 64,
    seed: int = 0,
    batch_size: int = 8192,
) -> ChurchData:
    """Windows for each image of ``x`` (N × input) and each kind; ``attack="gradient"`` uses the loss gradient.

    ``radius`` (window half-width, L2) defaults to twice the median adversarial distance
    (the gradient source: 2·√d·0.05). ``y`` are the true labels (default: the predictions,
    which also define the attacked class).
    """
    if not isinstance(model, Model):
        raise TypeError(f"church windows: expected an advlab Model, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or tuple(x.shape[1:]) != tuple(model.input_shape) or len(x) == 0:
        raise ValueError(f"church windows: x must be a tensor shaped (N, {', '.join(map(str, model.input_shape))}), got {getattr(x, 'shape', type(x))}")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"church windows: kinds must be among {list(KINDS)}, got {list(kinds)}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 3:
        raise ValueError(f"church windows: resolution must be an integer ≥ 3, got {resolution!r}")
    x = x.detach().cpu().float()
    if not bool(model.bounds.contains(x).all()):
        raise ValueError(f"church windows: every image must lie in the model's bounds {model.bounds!r}")
    atk = None if attack == "gradient" else resolve_attack(attack, "church windows")
    probs0 = model.predict_proba(x).cpu()
    pred = probs0.argmax(dim=1)
    true = torch.full((len(x),), -1) if y is None else torch.as_tensor(y).long().reshape(-1)
    if len(true) != len(x):
        raise ValueError(f"church windows: y must have {len(x)} labels, got {len(true)}")
    if targets is None:  # the runner-up class: the nearest boundary in probability
        tgt = probs0.scatter(1, pred[:, None], -1.0).argmax(dim=1)
    else:
        tgt = torch.as_tensor(targets).long().reshape(-1)
        if len(tgt) not in (1, len(x)):
            raise ValueError(f"church windows: targets must be one class or one per image ({len(x)}), got {len(tgt)}")
        tgt = tgt.expand(len(x))
        if (tgt == pred).any() or (tgt < 0).any() or (tgt >= model.num_classes).any():
            raise ValueError("church windows: each target must be another valid class than the image's prediction")
    gen = torch.Generator().manual_seed(int(seed))
    n, k, d = len(x), len(kinds), int(np.prod(model.input_shape))
    dirs = np.zeros((n, k, 2, d))
    step = np.full((n, k), np.nan)
    for i in range(n):
        for j, kind in enumerate(kinds):
            if kind == "random":
                e1 = _unit(torch.randn(d, generator=gen, dtype=torch.float64))
            else:
                target = int(tgt[i]) if kind == "targeted" else None
                e1, step[i, j] = _adversarial_direction(model, x[i], int(pred[i]), target, atk, eps, seed + i)
            dirs[i, j] = torch.stack([e1, _orthogonal_random(e1, gen)]).numpy()
    if radius is None:
        finite = step[np.isfinite(step)]
        radius = 2.0 * float(np.median(finite)) if finite.size else 2.0 * 0.05 * float(np.sqrt(d))
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"church windows: radius must be a positive number, got {radius!r}")
    extent: Extent = ((-radius, radius), (-radius, radius))
    labels, probs, feasible = _evaluate(model, x, dirs, extent, resolution, batch_size)
    return ChurchData(
        labels=labels, probabilities=probs, feasible=feasible, directions=dirs, step=step, extent=extent, kinds=tuple(kinds),
        images=x.numpy(), true_labels=true.numpy(), predictions=pred.numpy(),
        targets=tgt.numpy() if "targeted" in kinds else np.full(n, -1), class_names=tuple(model.classes),
        input_shape=tuple(model.input_shape), source="gradient" if atk is None else f"{atk.name} ({atk.norm.name}, eps={eps})",
    )


def _evaluate(model: Model, x: torch.Tensor, dirs: np.ndarray, extent: Extent, resolution: int,
              batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, t = pixel_centres(extent, resolution)
    ss, tt = np.meshgrid(s, t)  # row i ↔ t_i, column j ↔ s_j
    st = torch.as_tensor(np.stack([ss.ravel(), tt.ravel()], axis=1))
    lo = model.bounds.lower.expand(model.input_shape).reshape(-1).double()
    hi = model.bounds.upper.expand(model.input_shape).reshape(-1).double()
    n, k = dirs.shape[:2]
    c = model.num_classes
    labels = np.empty((n, k, resolution, resolution), dtype=np.int64)
    probs = np.empty((n, k, resolution, resolution, c), dtype=np.float32)
    feasible = np.empty((n, k, resolution, resolution), dtype=bool)
    tol = 1e-9 * float((hi - lo).norm())
    for i in range(n):
        a = x[i].reshape(-1).double()
        for j in range(k):
            pts = a + st @ torch.as_tensor(dirs[i, j])  # (R², d) in float64
            feasible[i, j] = (((pts >= lo - tol) & (pts <= hi + tol)).all(dim=1)).reshape(resolution, resolution).numpy()
            p = model.predict_proba(pts.float().reshape(-1, *model.input_shape), batch_size=batch_size).cpu().numpy()
            probs[i, j] = p.reshape(resolution, resolution, c)
            labels[i, j] = p.argmax(axis=1).reshape(resolution, resolution)
    return labels, probs, feasible


class ChurchDisplay:
    """``ChurchDisplay(data).plot()``: rows = images, columns = the image then one window per kind."""

    def __init__(self, data: ChurchData):
        if not isinstance(data, ChurchData):
            raise TypeError(f"ChurchDisplay: expected ChurchData (from compute_church_windows), got {type(data).__name__}")
        self.data = data
        self.figure_: Any = None
        self.axes_: Any = None

    def rgba(self, i: int, j: int, outside: str = "grey") -> np.ndarray:
        """The RGBA picture of window (i, j): class hue × confidence; outside H grey or faded."""
        d = self.data
        conf = d.probabilities[i, j].max(axis=-1)
        if outside == "grey":
            return region_rgba(d.labels[i, j], conf, feasible=d.feasible[i, j], num_classes=len(d.class_names))
        if outside != "faded":
            raise ValueError(f"ChurchDisplay: outside must be 'grey' or 'faded', got {outside!r}")
        rgba = region_rgba(d.labels[i, j], conf, num_classes=len(d.class_names))
        off = ~d.feasible[i, j]
        rgba[off, :3] = 0.45 * rgba[off, :3] + 0.55 * np.asarray(INFEASIBLE_GREY[:3])
        return rgba

    def plot(self, fig: Any = None, *, outside: str = "grey", title: str | None = None, legend: bool = True) -> ChurchDisplay:
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        from advlab.viz.colors import class_color

        d = self.data
        n, k = d.labels.shape[:2]
        if fig is None:
            fig = plt.figure(figsize=(1.25 + 2.0 * k, 2.05 * n + 0.9))
        axes = fig.subplots(n, k + 1, squeeze=False, gridspec_kw={"width_ratios": [0.62] + [1.0] * k})
        r = d.radius
        for i in range(n):
            img = d.images[i].reshape(d.input_shape)
            pic = img[0] if img.ndim == 3 and img.shape[0] == 1 else np.moveaxis(img, 0, -1) if img.ndim == 3 else img
            ax = axes[i][0]
            ax.imshow(pic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            true = "" if d.true_labels[i] < 0 else f"true {d.class_names[d.true_labels[i]]}\n"
            ax.set_title(f"{true}pred {d.class_names[d.predictions[i]]}", fontsize=8)
            for j, kind in enumerate(d.kinds):
                ax = axes[i][j + 1]
                ax.imshow(self.rgba(i, j, outside), origin="lower", extent=(-r, r, -r, r), interpolation="nearest")
                if outside == "faded":
                    ax.contour(np.linspace(-r, r, d.resolution), np.linspace(-r, r, d.resolution), d.feasible[i, j].astype(float),
                               levels=[0.5], colors="0.15", linewidths=0.7)
                ax.plot(0, 0, marker="o", markersize=4, color="white", markeredgecolor="k")
                if np.isfinite(d.step[i, j]) and d.step[i, j] <= r:
                    ax.plot(d.step[i, j], 0, marker="*", markersize=7, color="white", markeredgecolor="k")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    horizontal, vertical = KINDS[kind]
                    ax.set_title(f"{horizontal} →\n× {vertical} ↑", fontsize=8)
                if kind == "targeted" and d.targets[i] >= 0:
                    ax.text(0.03, 0.04, f"→ {d.class_names[d.targets[i]]}", transform=ax.transAxes, fontsize=7,
                            bbox={"fc": "white", "alpha": 0.7, "lw": 0, "pad": 1})
        if legend:
            handles = [Patch(facecolor=class_color(c), label=name) for c, name in enumerate(d.class_names)]
            handles.append(Patch(facecolor=INFEASIBLE_GREY, label="outside H" if outside == "grey" else "outside H (faded)"))
            fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 11), fontsize=7, frameon=False)
        fig.suptitle(title or f"Church windows, half-width {r:.3g} (L2), directions from {d.source}; ○ image, ☆ adversarial",
                     fontsize=9)
        fig.tight_layout(rect=(0, 0.05 if legend else 0, 1, 0.96))
        self.figure_, self.axes_ = fig, axes
        return self
