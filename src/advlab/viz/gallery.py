"""A gallery of adversarial images: original, perturbation (magnified), adversarial, with predictions.

``gallery_data(result, …)`` picks images from an ``AttackResult`` and returns
plain arrays; ``AdversarialGallery(data).plot()`` draws three rows (original,
perturbation ×scale, adversarial) and one column per image, each titled with
the true class, the prediction and its confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.attacks.result import AttackResult


@dataclass
class GalleryData:
    """Images as H×W or H×W×3 arrays (N of them) and what the model said about them."""

    originals: np.ndarray  # N×H×W[×3]
    perturbations: np.ndarray  # N×H×W[×3], adversarial − original (unscaled)
    adversarials: np.ndarray  # N×H×W[×3]
    labels: np.ndarray  # N true classes
    clean_predictions: np.ndarray  # N
    clean_confidences: np.ndarray  # N
    predictions: np.ndarray  # N, on the adversarial
    confidences: np.ndarray  # N, on the adversarial
    success: np.ndarray  # N bool
    indices: np.ndarray  # N positions in the result
    class_names: tuple[str, ...]
    scale: float  # perturbations are drawn as 0.5 + scale·δ (grey = unchanged)
    value_range: tuple[float, float]
    eps: float | None
    attack: str
    norm: str


def _as_images(x: torch.Tensor) -> np.ndarray:
    """N×C×H×W (C = 1 or 3) or N×H×W → N×H×W or N×H×W×3."""
    if x.ndim == 3:
        return x.numpy()
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0].numpy()
    if x.ndim == 4 and x.shape[1] == 3:
        return x.permute(0, 2, 3, 1).numpy()
    raise ValueError(f"gallery: expected images (N, H, W), (N, 1, H, W) or (N, 3, H, W), got {tuple(x.shape)}")


def _pick(result: AttackResult, k: int, n: int) -> np.ndarray:
    """Successful adversarials first (in input order), then the rest, up to n."""
    ok = result.success[k].numpy()
    order = np.concatenate([np.flatnonzero(ok), np.flatnonzero(~ok)])
    return order[:n]


def gallery_data(
    result: AttackResult,
    *,
    n: int = 8,
    eps_index: int = -1,
    indices: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    scale: float | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> GalleryData:
    """Arrays for a gallery of ``n`` images of ``result`` at ε index ``eps_index`` (default: the largest ε).

    ``scale`` magnifies the perturbation for display; by default the largest |δ|
    shown maps to half the grey range (a perturbation of ε = 0.1 is drawn ×5).
    """
    if not isinstance(result, AttackResult):
        raise TypeError(f"gallery: expected an AttackResult, got {type(result).__name__}")
    k = range(result.num_eps)[eps_index]
    if indices is None:
        if n < 1:
            raise ValueError(f"gallery: n must be ≥ 1, got {n}")
        idx = _pick(result, k, n)
    else:
        idx = np.asarray(list(indices), dtype=int)
        if idx.size == 0 or idx.min() < -len(result.labels) or idx.max() >= len(result.labels):
            raise ValueError(f"gallery: indices must be in 0..{len(result.labels) - 1}, got {list(indices)}")
    t = torch.as_tensor(idx)
    x, adv = result.inputs[t].float(), result.adversarials[k][t].float()
    delta = adv - x
    if scale is None:
        peak = float(delta.abs().max())
        scale = 0.5 * (value_range[1] - value_range[0]) / peak if peak > 0 else 1.0
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"gallery: scale must be a positive number, got {scale}")
    num_classes = int(max(result.labels.max(), result.predictions.max(), result.clean_predictions.max())) + 1
    names = tuple(str(c) for c in class_names) if class_names is not None else tuple(str(c) for c in range(num_classes))
    if len(names) < num_classes:
        raise ValueError(f"gallery: {len(names)} class names given, but the result has labels up to {num_classes - 1}")
    # An AttackResult stores no clean confidences: NaN here, filled in by from_result(model=…).
    return GalleryData(
        originals=_as_images(x),
        perturbations=_as_images(delta),
        adversarials=_as_images(adv),
        labels=result.labels[t].numpy(),
        clean_predictions=result.clean_predictions[t].numpy(),
        clean_confidences=np.full(len(idx), np.nan),
        predictions=result.predictions[k][t].numpy(),
        confidences=result.confidences[k][t].numpy(),
        success=result.success[k][t].numpy(),
        indices=idx,
        class_names=names,
        scale=float(scale),
        value_range=value_range,
        eps=None if result.eps is None else float(result.eps[k]),
        attack=result.attack,
        norm=result.norm,
    )


class AdversarialGallery:
    """Draw ``GalleryData``: ``AdversarialGallery.from_result(result).figure_``."""

    def __init__(self, data: GalleryData):
        self.data = data
        self.figure_: Any = None
        self.axes_: Any = None

    @classmethod
    def from_result(cls, result: AttackResult, *, model: Any = None, **kwargs: Any) -> AdversarialGallery:
        """Pick images and plot; with ``model`` the clean confidences are filled in and class names taken from it."""
        if model is not None and "class_names" not in kwargs:
            kwargs["class_names"] = getattr(model, "classes", None)
        data = gallery_data(result, **kwargs)
        if model is not None:
            probs = model.predict_proba(result.inputs[torch.as_tensor(data.indices)]).cpu()
            data.clean_confidences = probs.max(dim=1).values.numpy()
        return cls(data).plot()

    def plot(self, fig: Any = None, *, title: str | None = None) -> AdversarialGallery:
        import matplotlib.pyplot as plt

        d = self.data
        n = len(d.indices)
        if fig is None:
            fig = plt.figure(figsize=(1.6 * n + 0.8, 5.6))
        axes = fig.subplots(3, n, squeeze=False)
        lo, hi = d.value_range
        grey = d.originals.ndim == 3
        for j in range(n):
            orig_conf = "" if np.isnan(d.clean_confidences[j]) else f" ({d.clean_confidences[j]:.2f})"
            panels = [
                (d.originals[j], f"true {d.class_names[d.labels[j]]}\npred {d.class_names[d.clean_predictions[j]]}{orig_conf}", "black"),
                (np.clip(0.5 * (lo + hi) + d.scale * d.perturbations[j], lo, hi), None, "black"),
                (d.adversarials[j], f"pred {d.class_names[d.predictions[j]]} ({d.confidences[j]:.2f})",
                 "tab:red" if d.success[j] else "tab:green"),
            ]
            for i, (img, text, color) in enumerate(panels):
                ax = axes[i][j]
                ax.imshow(img, cmap="gray" if grey else None, vmin=lo, vmax=hi, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if text:
                    ax.set_title(text, fontsize=8, color=color)
        axes[0][0].set_ylabel("original", fontsize=9)
        axes[1][0].set_ylabel(f"perturbation\n×{d.scale:.3g} (grey = 0)", fontsize=9)
        axes[2][0].set_ylabel("adversarial", fontsize=9)
        eps = "minimal" if d.eps is None else f"ε = {d.eps:g}"
        fig.suptitle(title or f"{d.attack} ({d.norm}), {eps}: red = fooled, green = not fooled", fontsize=10)
        fig.tight_layout()
        self.figure_, self.axes_ = fig, axes
        return self
