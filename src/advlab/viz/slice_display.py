"""Draw a ``SliceData``: class regions over the slice, grey outside H, anchors with thumbnails, scale bar.

Thumbnails, the scale bar and the padding of the title, axis labels and legend depend on the
size of the box the slice is drawn in, which is final only when the figure is drawn (after
``tight_layout``, a grid, a fixed aspect). So they are arranged once in ``plot`` and again at
each draw, for the box being drawn (see ``slice_layout`` for the geometry).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from advlab.viz import slice_layout as layout
from advlab.viz.colors import INFEASIBLE_GREY, class_color, region_rgba
from advlab.viz.regions import draw_boundaries
from advlab.viz.slices import SliceData, compute_slice

_MARKERS = ("o", "*", "s")
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


def _relayout_artist(arrange: Any) -> Any:
    """An invisible artist, drawn first in its axes, that calls ``arrange(renderer)`` for the box being drawn."""
    from matplotlib.artist import Artist

    class _Relayout(Artist):
        def draw(self, renderer: Any) -> None:
            if self.get_visible():
                arrange(renderer)
            self.stale = False

    artist = _Relayout()
    artist.set_zorder(-1)  # before the picture, the thumbnails, the axis labels and the title
    artist.set_in_layout(False)
    return artist


class SliceDisplay:
    """``SliceDisplay(data).plot(ax=None, …)`` returns self with ``figure_`` and ``ax_``."""

    def __init__(self, data: SliceData):
        if not isinstance(data, SliceData):
            raise TypeError(f"SliceDisplay: expected SliceData (from compute_slice), got {type(data).__name__}")
        self.data = data
        self.figure_: Any = None
        self.ax_: Any = None
        self.scale_bar_loc_: str | None = None  # the corner the scale bar went to
        self.thumbnail_offsets_: dict[int, np.ndarray] = {}  # anchor index → offset of its thumbnail, points
        self._parts: dict[str, Any] = {}

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
        draws the border of plane ∩ H. Thumbnails fan out so that none covers another or an
        anchor; the scale bar takes a corner with no anchor.
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
        (s0, s1), (t0, t1) = d.extent
        ax.set_xlim(s0, s1)
        ax.set_ylim(t0, t1)
        frac = (d.anchors - np.array([s0, t0])) / np.array([s1 - s0, t1 - t0])
        # Anchors often sit exactly on the border (a saturated pixel stops the plane there).
        shown = ((frac >= -1e-9) & (frac <= 1 + 1e-9)).all(axis=1) if anchors else np.zeros(3, dtype=bool)
        self._parts = {"shown": shown, "thumbs": self._anchors(ax, shown, thumbnails, images, anchor_names)}
        along = "b − a" if d.angle == 0 else "side"
        ax.set_xlabel(f"s: L2 distance along {along}")
        ax.set_ylabel("t: L2 distance, in-plane orthogonal")
        if scale_bar:
            self._parts["bar"] = self._scale_bar(ax)
        if legend:
            self._parts["legend"] = self._legend(ax)
        if title:
            ax.set_title(title)
            self._parts["title"] = title
        self.ax_, self.figure_ = ax, ax.figure
        ax.apply_aspect()  # the box as it is now; each draw arranges again for the box it draws
        self._arrange()
        ax.add_artist(_relayout_artist(self._arrange))
        return self

    def _anchors(self, ax: Any, shown: np.ndarray, thumbnails: bool, images: Sequence[Any] | None,
                 names: Sequence[str]) -> list[tuple[int, Any, Any]]:
        """Markers, names and thumbnails (placed later by ``_arrange``); returns (anchor, thumbnail, name) triples."""
        from matplotlib.offsetbox import AnnotationBbox, OffsetImage

        d = self.data
        pics: list[np.ndarray | None] = [None, None, None]
        if thumbnails:
            sources = images if images is not None else list(d.to_input(d.anchors))
            if len(sources) != 3:
                raise ValueError(f"SliceDisplay.plot: images needs 3 inputs (a, b, c), got {len(sources)}")
            pics = [_as_image(x, d.input_shape) for x in sources]
        centroid = d.anchors[shown].mean(axis=0) if shown.any() else np.zeros(2)
        lo, hi = float(d.lower.min()), float(d.upper.max())
        thumbs = []
        for k in (int(i) for i in np.flatnonzero(shown)):
            xy = tuple(d.anchors[k])
            ax.plot(*xy, marker=_MARKERS[k], markersize=11 if k == 1 else 8, color="white", markeredgecolor="k", zorder=5, clip_on=False)
            pic = pics[k]
            if pic is None:  # no image: the name beside the marker, away from the others
                away = 3 * layout.outward(np.full(2, 0.5), d.anchors[k] - centroid)  # a unit vector
                ax.annotate(names[k], xy, xytext=tuple(12 * away), textcoords="offset points", ha="center", va="center",
                            fontsize=9, zorder=7, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.85, "lw": 0})
                continue
            image = OffsetImage(pic, zoom=layout.THUMB_POINTS / max(pic.shape[:2]), cmap="gray", interpolation="nearest")
            image.get_children()[0].set_clim(lo, hi)  # type: ignore[attr-defined]  # an AxesImage
            box = ax.add_artist(AnnotationBbox(
                image, xy, xybox=(0, layout.THUMB_OFFSET), boxcoords="offset points", pad=0.15, annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": "k", "lw": 0.8}, zorder=6,
            ))
            name = ax.annotate(names[k], xy, xytext=(0, 0), textcoords="offset points", ha="center", va="center", fontsize=9,
                               zorder=7, annotation_clip=False)
            thumbs.append((int(k), box, name))
        return thumbs

    def _arrange(self, renderer: Any = None) -> None:
        """Place thumbnails and scale bar for the current box; pad title, labels and legend to clear the thumbnails."""
        from matplotlib.transforms import ScaledTranslation

        ax, d, parts = self.ax_, self.data, self._parts
        if ax is None:
            return
        points = 72 / ax.figure.dpi
        bbox = ax.get_window_extent(renderer)
        box = np.array([0, 0, bbox.width, bbox.height]) * points
        pos = (ax.transData.transform(d.anchors) - np.array([bbox.x0, bbox.y0])) * points
        shown, thumbs = parts["shown"], parts["thumbs"]
        rects: list[np.ndarray] = []
        if thumbs:
            which = [k for k, _, _ in thumbs]
            centroid = pos[shown].mean(axis=0)
            prefer = np.array([layout.outward(pos[k] / np.maximum(box[2:], 1e-9), pos[k] - centroid) for k in which])
            offsets = layout.place_thumbnails(pos[which], prefer, pos[shown], box, d.feasible)
            for (k, thumb, name), offset in zip(thumbs, offsets):
                below = bool(layout.name_below(offset))  # the name on the far side of the thumbnail
                thumb.xyann = tuple(offset)
                name.xyann = (offset[0], offset[1] + (-1 if below else 1) * (layout.THUMB_POINTS / 2 + 8))
                rects.append(layout.footprints(pos[k] + offset, np.array(below)))
                self.thumbnail_offsets_[k] = offset
        over = {"left": 0.0, "bottom": 0.0, "right": 0.0, "top": 0.0}  # how far thumbnails reach out of the box
        for r in rects:
            over = {"left": max(over["left"], -r[0]), "bottom": max(over["bottom"], -r[1]),
                    "right": max(over["right"], r[2] - box[2]), "top": max(over["top"], r[3] - box[3])}
        ax.xaxis.labelpad = max(4.0, over["bottom"] - 10)  # labelpad counts from the tick labels
        ax.yaxis.labelpad = max(4.0, over["left"] - 22)
        if "bar" in parts:
            bar, fraction, label = parts["bar"]
            size = (max(fraction * box[2], 4.6 * len(label)) + 8, 24.0)  # the bar or its label, and the frame
            loc = layout.scale_bar_corner(size, box, pos[shown], rects, d.feasible)
            bar.loc, self.scale_bar_loc_ = bar.codes[loc], loc
        if "legend" in parts and ax.get_legend() is parts["legend"]:
            shift = ScaledTranslation(over["right"] / 72, 0, ax.figure.dpi_scale_trans)
            parts["legend"].set_bbox_to_anchor((1.03, 1.0), transform=ax.transAxes + shift)
        if "title" in parts and ax.get_title() == parts["title"]:  # not when the caller has set another title since
            pad = max(6.0, over["top"] + 4)
            if hasattr(ax, "_set_title_offset_trans"):  # set_title(pad=…) would also reset the title's font
                ax._set_title_offset_trans(pad)
            else:
                ax.set_title(parts["title"], pad=pad)

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

    def _scale_bar(self, ax: Any) -> tuple[Any, float, str]:
        """A bar of a round L2 length (its corner chosen by ``_arrange``): the bar, its width as a box fraction, its label."""
        from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

        (s0, s1), (t0, t1) = self.data.extent
        length = _nice_length(s1 - s0)
        label = f"{length:g} (L2)"
        bar = AnchoredSizeBar(
            ax.transData, length, label, loc="lower right", pad=0.4, borderpad=0.5, sep=3,
            frameon=True, size_vertical=(t1 - t0) / 150, fontproperties={"size": 8},
        )
        bar.patch.set_alpha(0.8)
        ax.add_artist(bar)
        return bar, length / (s1 - s0), label

    def _legend(self, ax: Any) -> Any:
        from matplotlib.patches import Patch

        d = self.data
        handles = [Patch(facecolor=class_color(k), edgecolor="none", label=name) for k, name in enumerate(d.class_names)]
        if not d.feasible.all():
            handles.append(Patch(facecolor=INFEASIBLE_GREY, edgecolor="0.72", hatch=_HATCH, linewidth=0, label="outside H"))
        # _arrange shifts it right, in points, past any thumbnail sticking out of the box
        return ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=8, frameon=False, borderaxespad=0)
