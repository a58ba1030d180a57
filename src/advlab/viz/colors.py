"""One fixed hue per class across every figure; lightness shows confidence; grey marks infeasible points."""

from __future__ import annotations

import numpy as np

# tab10 then the light half of tab20, with their greys swapped for navy and maroon so that no
# class can be mistaken for the grey of points outside the input box.
_PALETTE = np.array(
    [
        (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.839, 0.153, 0.157),
        (0.580, 0.404, 0.741), (0.549, 0.337, 0.294), (0.890, 0.467, 0.761), (0.125, 0.125, 0.420),
        (0.737, 0.741, 0.133), (0.090, 0.745, 0.812), (0.682, 0.780, 0.910), (1.000, 0.733, 0.471),
        (0.596, 0.875, 0.541), (1.000, 0.596, 0.588), (0.773, 0.690, 0.835), (0.769, 0.612, 0.580),
        (0.969, 0.714, 0.824), (0.420, 0.000, 0.000), (0.859, 0.859, 0.553), (0.620, 0.855, 0.898),
    ]
)
INFEASIBLE_GREY = (0.55, 0.55, 0.55, 1.0)


def class_color(k: int) -> tuple[float, float, float]:
    r, g, b = _PALETTE[int(k) % len(_PALETTE)]
    return (float(r), float(g), float(b))


def class_colors(n: int) -> np.ndarray:
    return np.array([class_color(k) for k in range(n)])


def region_rgba(labels: np.ndarray, confidence: np.ndarray, feasible: np.ndarray | None = None, num_classes: int | None = None) -> np.ndarray:
    """RGBA image: the class hue, pale where the top probability is near chance, full at certainty."""
    labels = np.asarray(labels)
    k = int(num_classes or (labels.max() + 1 if labels.size else 1))
    hue = class_colors(max(k, 1))[np.clip(labels, 0, None) % len(_PALETTE)]
    chance = 1.0 / max(k, 2)
    strength = np.clip((np.nan_to_num(confidence, nan=chance) - chance) / (1 - chance), 0, 1)[..., None]
    # Keep a floor of colour so even uncertain regions show their class.
    s = 0.25 + 0.75 * strength
    rgb = 1.0 - s * (1.0 - hue)
    rgba = np.concatenate([rgb, np.ones(labels.shape + (1,))], axis=-1)
    mask = labels < 0 if feasible is None else ~np.asarray(feasible, dtype=bool)
    rgba[mask] = INFEASIBLE_GREY
    return rgba
