"""Draw a ``SliceData``: class regions over the slice, grey outside H, anchors with thumbnails, scale bar."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from advlab.viz.colors import INFEASIBLE_GREY, class_color, region_rgba
from advlab.viz.regions import draw_boundaries
from advlab.viz.slices import SliceData, compute_slice

_MARKERS = ("o", "*", "s")
_THUMB_PIXELS = 36  # thumbnail size on screen, in points
_THUMB_OFFSET = 48  # distance of a thumbnail from its anchor, in points
_HATCH = "////"
_COMPUTE_KEYS = ("resolution", "side", "zoom", "half_width", "zoom_center", "batch_size", "adaptive", "cache", "quiet")


def _nice_length(span: float) -> float:
    """About a fifth of ``span`` rounded down to 1, 2 or 5 × 10^k."""
    target = span / 5
    exp = np.floor(np.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return float(m * 10**exp)
    return float(10**exp)


def _as_image(x: Any, input_shape: Sequence[int]) -> np.ndarray | None:
    """An input as a (H, W) or (H, W, 3) array, or None when inputs are not images."""
    arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    shape = tuple(input_shape)
    if arr.size != np.prod(shape):
        raise ValueError(f"SliceDisplay.plot: thumbnail images must be inputs shaped {shape}, got {arr.shape}")
    if len(shape) == 2:
        return arr.reshape(shape)
    if len(shape) == 3 and shape[0] in (1, 3):  # C × H × W
        arr = arr.reshape(shape)
        return arr[0] if shape[0] == 1 else np.moveaxis(arr, 0, -1)
    return None


def _outward(frac: np.ndarray, away: np.ndarray) -> np.ndarray:
    """Unit direction for a thumbnail: out through the edges an anchor sits on, else away from the others."""
    normal = np.array([float(frac[0] > 0.95) - float(frac[0] < 0.05), float(frac[1] > 0.95) - float(frac[1] < 0.05)])
    vec = normal if normal.any() else away
    n = float(np.linalg.norm(vec))
    return vec / n if n > 1e-9 else np.array([0.0, 1.0])


def _spill(ax: Any, frac: np.ndarray, offset: np.ndarray) -> set[str]:
    """Sides of the axes that a thumbnail centred ``offset`` points from axes fraction ``frac`` crosses."""
    bbox = ax.get_window_extent()
    size = np.array([bbox.width, bbox.height]) * 72 / ax.figure.dpi
    centre = frac * size + offset
    half = _THUMB_PIXELS / 2 + 4
    hits = {"left": centre[0] - half < 0, "right": centre[0] + half > size[0], "bottom": centre[1] - half < 0, "top": centre[1] + half > size[1]}
    return {side for side, hit in hits.items() if hit}


class SliceDisplay:
    """``SliceDisplay(data).plot(ax=None, …)`` returns self with ``figure_`` and ``ax_``."""

    def __init__(self, data: SliceData):
        if not isinstance(data, SliceData):
            raise TypeError(f"SliceDisplay: expected SliceData (from compute_slice), got {type(data).__name__}")
        self.data = data
        self.figure_: Any = None
        self.ax_: Any = None

    @classmethod
    def from_model(cls, model: Any, a: Any, b: Any, c: Any, *, ax: Any = None, **kwargs: Any) -> SliceDisplay:
        """Compute the slice (keywords of ``compute_slice``) and plot it (the other keywords)."""
        compute = {k: kwargs.pop(k) for k in _COMPUTE_KEYS if k in kwargs}
        data = compute_slice(model, a, b, c, **compute)
        kwargs.setdefault("images", (a, b, c))
        return cls(data).plot(ax=ax, **kwargs)

    def plot(
        self,
        ax: Any = None,
        *,
        anchors: bool = True,
        thumbnails: bool = True,
        images: Sequence[Any] | None = None,
        anchor_names: Sequence[str] = ("a", "b", "c"),
        legend: bool = True,
        scale_bar: bool = True,
        boundaries: bool = False,
        title: str | None = None,
        aspect: str | float = "equal",
        outline: bool = True,
    ) -> SliceDisplay:
        """Class hue per pixel (lightness = confidence), grey outside H, in plane coordinates.

        ``images`` overrides the thumbnails of a, b, c (default: rebuilt from the plane,
        which equals the inputs); thumbnails appear only for image inputs. Anchors outside
        a zoomed window are left out. ``aspect="equal"`` keeps L2 geometry true; ``outline``
        draws the border of plane ∩ H.
        """
        import matplotlib.pyplot as plt

        if len(anchor_names) != 3:
            raise ValueError(f"SliceDisplay.plot: anchor_names needs 3 names (a, b, c), got {len(anchor_names)}")
        d = self.data
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 5))
        rgba = region_rgba(d.labels, d.confidence, feasible=d.feasible, num_classes=len(d.class_names))
        ax.imshow(rgba, origin="lower", extent=d.imshow_extent, aspect=aspect, interpolation="nearest")
        if outline and d.polygon is not None:
            self._outline(ax, d.polygon)
        if boundaries:
            ss, tt = d.grid()
            with warnings.catch_warnings():  # all-NaN class pairs outside H are expected
                warnings.simplefilter("ignore", RuntimeWarning)
                draw_boundaries(ax, ss, tt, d.probabilities)
        sides = self._anchors(ax, thumbnails, images, anchor_names) if anchors else set()
        room = _THUMB_OFFSET + _THUMB_PIXELS  # points a thumbnail reaches beyond the frame
        (s0, s1), (t0, t1) = d.extent
        ax.set_xlim(s0, s1)
        ax.set_ylim(t0, t1)
        along = "b − a" if d.angle == 0 else "side"
        ax.set_xlabel(f"s: L2 distance along {along}", labelpad=room - 12 if "bottom" in sides else 4)
        ax.set_ylabel("t: L2 distance, in-plane orthogonal", labelpad=room - 20 if "left" in sides else 4)
        if scale_bar:
            self._scale_bar(ax)
        if legend:
            self._legend(ax, room if "right" in sides else 0)
        if title:
            ax.set_title(title, pad=room + 14 if "top" in sides else 6)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _anchors(self, ax: Any, thumbnails: bool, images: Sequence[Any] | None, names: Sequence[str]) -> set[str]:
        """Markers, names and thumbnails; returns the sides of the axes that thumbnails spill over."""
        from matplotlib.offsetbox import AnnotationBbox, OffsetImage

        d = self.data
        (s0, s1), (t0, t1) = d.extent
        span = np.array([s1 - s0, t1 - t0])
        frac = (d.anchors - np.array([s0, t0])) / span  # axes fractions
        # Anchors often sit exactly on the border (a saturated pixel stops the plane there).
        inside = ((frac >= -1e-9) & (frac <= 1 + 1e-9)).all(axis=1)
        pics: list[np.ndarray | None] = [None, None, None]
        if thumbnails:
            sources = images if images is not None else list(d.to_input(d.anchors))
            if len(sources) != 3:
                raise ValueError(f"SliceDisplay.plot: images needs 3 inputs (a, b, c), got {len(sources)}")
            pics = [_as_image(x, d.input_shape) for x in sources]
        lo, hi = float(d.lower.min()), float(d.upper.max())
        sides: set[str] = set()
        for k in np.flatnonzero(inside):
            s, t = d.anchors[k]
            ax.plot(s, t, marker=_MARKERS[k], markersize=11 if k == 1 else 8, color="white", markeredgecolor="k", zorder=5, clip_on=False)
            direction = _outward(frac[k], frac[k] - frac[inside].mean(axis=0))
            pic = pics[k]
            if pic is None:
                ax.annotate(names[k], (s, t), xytext=tuple(12 * direction), textcoords="offset points", ha="center",
                            va="center", fontsize=9, zorder=7, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.85, "lw": 0})
                continue
            offset = _THUMB_OFFSET * direction
            sides |= _spill(ax, frac[k], offset)
            image = OffsetImage(pic, zoom=_THUMB_PIXELS / max(pic.shape[:2]), cmap="gray", interpolation="nearest")
            image.get_children()[0].set_clim(lo, hi)
            ax.add_artist(AnnotationBbox(
                image, (s, t), xybox=tuple(offset), boxcoords="offset points", pad=0.15, annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": "k", "lw": 0.8}, zorder=6,
            ))
            below = -1 if direction[1] < -0.3 else 1  # name on the far side of the thumbnail
            ax.annotate(names[k], (s, t), xytext=(offset[0], offset[1] + below * (_THUMB_PIXELS / 2 + 8)), textcoords="offset points",
                        ha="center", va="center", fontsize=9, zorder=7, annotation_clip=False)
        return sides

    def _outline(self, ax: Any, polygon: np.ndarray) -> None:
        """Border of plane ∩ H, and light hatching outside it (grey alone can resemble a grey class hue)."""
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path

        (s0, s1), (t0, t1) = self.data.extent
        ring = np.vstack([polygon, polygon[:1]])
        ax.plot(ring[:, 0], ring[:, 1], color="0.2", linewidth=0.8, zorder=3)
        frame = np.array([[s0, t0], [s1, t0], [s1, t1], [s0, t1], [s0, t0]])
        hole = ring[::-1]  # opposite winding: the polygon is cut out of the frame
        codes = [Path.MOVETO] + [Path.LINETO] * 3 + [Path.CLOSEPOLY]
        codes += [Path.MOVETO] + [Path.LINETO] * (len(hole) - 2) + [Path.CLOSEPOLY]
        path = Path(np.vstack([frame, hole]), codes)
        ax.add_patch(PathPatch(path, facecolor="none", edgecolor="0.72", hatch=_HATCH, linewidth=0, zorder=2))

    def _scale_bar(self, ax: Any) -> None:
        from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

        (s0, s1), (t0, t1) = self.data.extent
        length = _nice_length(s1 - s0)
        bar = AnchoredSizeBar(
            ax.transData, length, f"{length:g} (L2)", loc="lower right", pad=0.4, borderpad=0.5, sep=3,
            frameon=True, size_vertical=(t1 - t0) / 150, fontproperties={"size": 8},
        )
        bar.patch.set_alpha(0.8)
        ax.add_artist(bar)

    def _legend(self, ax: Any, shift_points: float = 0) -> None:
        from matplotlib.patches import Patch

        d = self.data
        handles = [Patch(facecolor=class_color(k), edgecolor="none", label=name) for k, name in enumerate(d.class_names)]
        if not d.feasible.all():
            handles.append(Patch(facecolor=INFEASIBLE_GREY, edgecolor="0.72", hatch=_HATCH, linewidth=0, label="outside H"))
        width_points = ax.get_window_extent().width * 72 / ax.figure.dpi
        x = 1.03 + shift_points / max(width_points, 1.0)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(x, 1.0), fontsize=8, frameon=False, borderaxespad=0)
