"""Church-window grids (Warde-Farley & Goodfellow; Świrszczyński et al., Fig. 4).

Each window is a small square slice centred on an image a, spanned by two orthonormal
directions: ``"adversarial"`` = the normalised adversarial direction (adv − a)/‖adv − a‖
(or the loss gradient) × a random direction orthogonal to it; ``"random"`` = random ×
random; ``"targeted"`` = the direction of a targeted adversarial (towards the runner-up
class by default) × random. Every window has the same half-width ``radius`` (input-space
L2), so windows compare at one scale.

An image with saturated pixels (exactly at a bound, as most MNIST pixels are) sits on the
boundary of H: any direction with a component on such a pixel leaves H on one side of a,
so a window spanned by unrestricted directions lies almost entirely outside H. By default
(``face=True``) both directions lie within the face of H containing a: their components on
the coordinates at a bound (within 1e-6) are zero, so a small window around a stays inside
H. For the adversarial direction the attack runs on the model seen through that face (the
pixels at a bound held at a's values), so ☆ is an adversarial within the face, on the e₁
axis. ``face=False`` keeps the unrestricted directions. ``inside_radius`` gives, per window,
the largest half-width that stays entirely inside H: on MNIST it is tiny even within the
face, because many "free" pixels are anti-aliasing values within a few 1/255 of a bound.

Random directions within the face are room-weighted (see ``church_directions``). With
``center="midpoint"`` an adversarial (or targeted) window is centred on the midpoint of a and
☆ instead of on a, its random ⊥ direction weighted by the room left along the whole segment
a → ☆, and the default half-width is 0.6 × the median distance to ☆: a and ☆ both lie in the
window and, since H is convex and holds both, most of the window around the segment lies in H
(centred on a, the half of the window behind a leaves H along every direction that moves a
pixel sitting at a bound). ``offsets`` gives the position of the centre along e₁.

The windows are evaluated on the grid a + s·e₁ + t·e₂, also outside H; ``feasible`` marks
the pixels inside H. The display draws the rest grey (``outside="grey"``, as every slice)
or shows the model's labels there faded (``outside="faded"``), to reveal what the model does
just off the valid images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.attacks import Attack
from advlab.models.model import Model
from advlab.viz.church_directions import adversarial_direction, box_of, free_coordinates, random_direction, room_weights
from advlab.viz.colors import INFEASIBLE_GREY, region_rgba
from advlab.viz.slice_geometry import Extent, pixel_centres
from advlab.viz.third_points import resolve_attack

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
    step: np.ndarray  # (N, K) position s of the adversarial (within the face) on the e₁ axis (NaN: random/gradient)
    extent: Extent  # ((−r, r), (−r, r)), shared
    kinds: tuple[str, ...]
    images: np.ndarray  # (N, *input_shape)
    true_labels: np.ndarray  # (N,), −1 when unknown
    predictions: np.ndarray  # (N,) the model's class at each image
    targets: np.ndarray  # (N,) target of the targeted windows (−1 when not drawn)
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    source: str  # what made the adversarial directions
    inside_radius: np.ndarray  # (N, K) largest half-width at which the whole window lies inside H
    fooled: np.ndarray  # (N, K) the model's class at ☆ differs from the image's (False for random windows)
    face: bool = True  # directions restricted to the face of H containing each image
    offsets: np.ndarray | None = None  # (N, K) position of each window's centre on the e₁ axis (0: centred on the image)
    center: str = "image"  # "image" or "midpoint" (adversarial windows centred between the image and ☆)

    @property
    def centre_offsets(self) -> np.ndarray:
        return np.zeros(self.labels.shape[:2]) if self.offsets is None else self.offsets

    @property
    def image_labels(self) -> np.ndarray:
        """(N, K) the model's class at each image (the pixel nearest to it in its window; −1 when off the window)."""
        r, (lo, hi) = self.resolution, self.extent[0]
        col = np.floor((-self.centre_offsets - lo) / (hi - lo) * r).astype(int)
        ok = (col >= 0) & (col < r)
        n, k = np.indices(col.shape)
        out = self.labels[n, k, r // 2, np.clip(col, 0, r - 1)]
        return np.where(ok, out, -1)

    def crosses_boundary(self) -> np.ndarray:
        """(N, K) whether the e₁ axis of the window shows another class than the image's inside H."""
        r = self.resolution
        row, feas = self.labels[:, :, r // 2], self.feasible[:, :, r // 2]
        return ((row != self.predictions[:, None, None]) & feas).any(axis=-1)

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
    face: bool = True,
    center: str = "image",
) -> ChurchData:
    """Windows for each image of ``x`` (N × input) and each kind; ``attack="gradient"`` uses the loss gradient.

    ``radius`` (window half-width, L2) defaults to twice the median adversarial distance
    (the gradient source: 2·√d·0.05). ``y`` are the true labels (default: the predictions,
    which also define the attacked class). ``face=True``: directions within the face of H
    containing each image (coordinates at a bound stay fixed), so a small window around it
    stays inside H; ``face=False``: unrestricted directions. ``center="midpoint"``: adversarial and
    targeted windows centred between the image and ☆ (default half-width 0.6 × the median distance to ☆).
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
    if center not in ("image", "midpoint"):
        raise ValueError(f"church windows: center must be 'image' or 'midpoint', got {center!r}")
    if center == "midpoint" and attack == "gradient":
        raise ValueError("church windows: center='midpoint' needs an attack (the gradient gives no adversarial to centre on)")
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
    offsets = np.zeros((n, k))
    lo, hi = box_of(model)
    for i in range(n):
        free = free_coordinates(x[i], lo, hi, face)
        if float(free.sum()) < 2:
            raise ValueError(f"church windows: image {i} has fewer than 2 pixels strictly inside H; a window in its face needs 2 (use face=False)")
        weights = room_weights(x[i], lo, hi, face)
        for j, kind in enumerate(kinds):
            if kind == "random":
                e1 = random_direction(weights, gen)
                e2_weights = weights
            else:
                target = int(tgt[i]) if kind == "targeted" else None
                e1, step[i, j] = adversarial_direction(model, x[i], int(pred[i]), target, atk, eps, seed + i, free)
                e2_weights = weights
                if center == "midpoint" and np.isfinite(step[i, j]):
                    offsets[i, j] = step[i, j] / 2
                    star = x[i].reshape(-1).double() + step[i, j] * e1
                    e2_weights = torch.minimum(weights, room_weights(star.clamp(lo, hi), lo, hi, face))
                    if float((e2_weights > 0).sum()) < 2:
                        e2_weights = weights
            dirs[i, j] = torch.stack([e1, random_direction(e2_weights, gen, e1)]).numpy()
    if radius is None:
        finite = step[np.isfinite(step)]
        scale = 0.6 if center == "midpoint" else 2.0
        radius = scale * float(np.median(finite)) if finite.size else 2.0 * 0.05 * float(np.sqrt(d))
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"church windows: radius must be a positive number, got {radius!r}")
    extent: Extent = ((-radius, radius), (-radius, radius))
    labels, probs, feasible = _evaluate(model, x, dirs, offsets, extent, resolution, batch_size)
    source = "gradient" if atk is None else f"{atk.name} ({atk.norm.name}, {'minimal' if eps is None else f'eps={eps}'})"
    return ChurchData(
        labels=labels, probabilities=probs, feasible=feasible, directions=dirs, step=step, extent=extent, kinds=tuple(kinds),
        images=x.numpy(), true_labels=true.numpy(), predictions=pred.numpy(),
        targets=tgt.numpy() if "targeted" in kinds else np.full(n, -1), class_names=tuple(model.classes),
        input_shape=tuple(model.input_shape), source=source, inside_radius=_inside_radius(x, dirs, offsets, lo, hi),
        fooled=_fooled(model, x, dirs, step, pred), face=bool(face), offsets=offsets, center=center,
    )


def _inside_radius(x: torch.Tensor, dirs: np.ndarray, offsets: np.ndarray, lo: torch.Tensor, hi: torch.Tensor) -> np.ndarray:
    """(N, K) largest half-width r with centre + [−r, r]·e₁ + [−r, r]·e₂ inside H: min over i of room_i / (|e₁ᵢ| + |e₂ᵢ|)."""
    flat = x.reshape(len(x), -1).double().numpy()[:, None, :]
    centre = torch.as_tensor(flat + offsets[..., None] * dirs[:, :, 0])
    room = torch.minimum(centre - lo, hi - centre).clamp(min=0).numpy()
    reach = np.abs(dirs).sum(axis=2)  # (N, K, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(reach > 1e-12, room / reach, np.inf).min(axis=-1)


def _fooled(model: Model, x: torch.Tensor, dirs: np.ndarray, step: np.ndarray, pred: torch.Tensor) -> np.ndarray:
    """(N, K) whether the model's class at ☆ (a + step·e₁) differs from the image's; False for random windows."""
    out = np.zeros(step.shape, dtype=bool)
    idx = np.argwhere(np.isfinite(step))
    if len(idx):
        flat = x.reshape(len(x), -1).double()
        pts = torch.stack([flat[i] + float(step[i, j]) * torch.as_tensor(dirs[i, j, 0]) for i, j in idx])
        labels = model.predict(pts.float().reshape(-1, *model.input_shape)).cpu().numpy()
        out[idx[:, 0], idx[:, 1]] = labels != pred.numpy()[idx[:, 0]]
    return out


def _evaluate(model: Model, x: torch.Tensor, dirs: np.ndarray, offsets: np.ndarray, extent: Extent, resolution: int,
              batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, t = pixel_centres(extent, resolution)
    ss, tt = np.meshgrid(s, t)  # row i ↔ t_i, column j ↔ s_j
    st = torch.as_tensor(np.stack([ss.ravel(), tt.ravel()], axis=1))
    lo, hi = box_of(model)
    n, k = dirs.shape[:2]
    c = model.num_classes
    labels = np.empty((n, k, resolution, resolution), dtype=np.int64)
    probs = np.empty((n, k, resolution, resolution, c), dtype=np.float32)
    feasible = np.empty((n, k, resolution, resolution), dtype=bool)
    tol = 1e-9 * float((hi - lo).norm())
    for i in range(n):
        a = x[i].reshape(-1).double()
        for j in range(k):
            pts = a + float(offsets[i, j]) * torch.as_tensor(dirs[i, j, 0]) + st @ torch.as_tensor(dirs[i, j])  # (R², d) float64
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
                off = float(d.centre_offsets[i, j])
                if -off >= -r:
                    ax.plot(-off, 0, marker="o", markersize=4, color="white", markeredgecolor="k")
                if np.isfinite(d.step[i, j]) and d.step[i, j] - off <= r:  # hollow: the attack failed (not adversarial)
                    ax.plot(d.step[i, j] - off, 0, marker="*", markersize=7, markerfacecolor="white" if d.fooled[i, j] else "none",
                            markeredgecolor="k", linestyle="none")
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
        within = "room-weighted within the face of H containing each image" if d.face else "unrestricted"
        if d.center == "midpoint":
            within += "; adversarial windows centred between ○ and ☆"
        fig.suptitle(title or f"Church windows, half-width {r:.3g} (L2), directions {within}, from {d.source}\n"
                              f"○ image, ☆ adversarial (hollow: not adversarial)", fontsize=9)
        fig.tight_layout(rect=(0, 0.05 if legend else 0, 1, 0.96))
        self.figure_, self.axes_ = fig, axes
        return self
