"""A grid of small images with a title under each and a label per row (inputs in [0, 1])."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _as_image(img: Any) -> np.ndarray:
    """(C, H, W) or (H, W) tensor/array → (H, W) or (H, W, 3) float array for imshow."""
    a = img.detach().cpu().numpy() if hasattr(img, "detach") else np.asarray(img)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    if a.ndim not in (2, 3):
        raise ValueError(f"image_grid: expected images shaped (H, W), (1, H, W) or (3, H, W), got {a.shape}")
    return a


def image_grid(
    rows: Sequence[Sequence[Any]],
    titles: Sequence[Sequence[str]] | None = None,
    *,
    row_labels: Sequence[str] = (),
    cell: float = 1.7,
    suptitle: str | None = None,
) -> Any:
    """One row per sequence of images, shown in grey on [0, 1] (no rescaling, so contrast is comparable)."""
    import matplotlib.pyplot as plt

    if not rows or not all(len(r) == len(rows[0]) for r in rows) or not rows[0]:
        raise ValueError(f"image_grid: expected equally long, non-empty rows, got lengths {[len(r) for r in rows]}")
    n_rows, n_cols = len(rows), len(rows[0])
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols + 1.4, cell * n_rows + 0.6), squeeze=False,
                             layout="constrained")  # fmt: skip
    for r, images in enumerate(rows):
        for c, img in enumerate(images):
            ax = axes[r, c]
            ax.imshow(_as_image(img), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles is not None:
                ax.set_title(titles[r][c], fontsize=8)
        if r < len(row_labels):
            axes[r, 0].set_ylabel(row_labels[r], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig
