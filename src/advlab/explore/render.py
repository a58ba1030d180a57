"""Pictures the explorer sends: PNG bytes of a slice's regions, of a full figure, and NumPy arrays."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from advlab.viz.colors import class_colors, region_rgba
from advlab.viz.slices import SliceData


def regions_png(data: SliceData) -> bytes:
    """One PNG pixel per slice pixel: class hue shaded by confidence, grey outside H; top row = largest t."""
    from PIL import Image

    rgba = region_rgba(data.labels, data.confidence, feasible=data.feasible, num_classes=len(data.class_names))
    img = (np.clip(rgba[::-1], 0, 1) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img, mode="RGBA").save(buf, format="PNG")
    return buf.getvalue()


def figure_png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def slice_figure_png(data: SliceData, images: tuple[Any, Any, Any], title: str) -> bytes:
    """The SliceDisplay picture (anchors, thumbnails, scale bar, legend), as the CLI draws it."""
    import matplotlib

    matplotlib.use("Agg")
    from advlab.viz.slice_display import SliceDisplay

    return figure_png(SliceDisplay(data).plot(title=title, images=images).figure_)


def church_figure_png(data: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from advlab.viz.church import ChurchDisplay

    inside = float(data.feasible.mean())
    return figure_png(ChurchDisplay(data).plot(outside="grey" if inside >= 0.5 else "faded").figure_)


def slice_npz(data: SliceData) -> bytes:
    buf = io.BytesIO()
    arrays: dict[str, Any] = data.to_arrays()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def palette(n: int) -> list[str]:
    """CSS colours of the classes (the same hues as every advlab figure)."""
    return ["#" + "".join(f"{int(round(255 * v)):02x}" for v in rgb) for rgb in class_colors(n)]
