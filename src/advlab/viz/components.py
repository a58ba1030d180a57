"""Connected components of class regions in a slice, and the connectivity search (Świrszczyński et al., Fig. 3).

A class region of a slice is the set of feasible pixels with that label; its connected
components are counted with ``scipy.ndimage.label`` under 4-connectivity (pixels sharing
an edge; the default, which never joins regions that only touch at a corner) or
8-connectivity (corners too). Pixels outside H belong to no region.

Two inputs a, b of one class whose straight segment leaves the class may still lie in one
connected component of the class *in some plane*: ``find_connecting_slice`` tries third
points c and reports a slice where a and b look disconnected and one where they are
connected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from advlab.models.model import Model
from advlab.viz.slices import SliceData, compute_slice
from advlab.viz.third_points import as_input


def _structure(connectivity: int) -> np.ndarray:
    from scipy.ndimage import generate_binary_structure

    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 (edge neighbours) or 8 (edges and corners), got {connectivity!r}")
    return generate_binary_structure(2, 1 if connectivity == 4 else 2)


def label_components(labels: np.ndarray, cls: int, feasible: np.ndarray | None = None, connectivity: int = 4) -> tuple[np.ndarray, int]:
    """Component ids (R, R) of class ``cls`` (0 elsewhere) and their number."""
    from scipy.ndimage import label

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"components: expected a 2-D label image, got shape {labels.shape}")
    mask = labels == cls
    if feasible is not None:
        mask &= np.asarray(feasible, dtype=bool)
    ids, n = label(mask, structure=_structure(connectivity))
    return ids, int(n)


def count_components(labels: np.ndarray, feasible: np.ndarray | None = None, connectivity: int = 4,
                     num_classes: int | None = None) -> dict[int, int]:
    """Number of connected components of every class region (classes absent from the image count 0)."""
    labels = np.asarray(labels)
    present = labels if feasible is None else labels[np.asarray(feasible, dtype=bool)]
    k = num_classes if num_classes is not None else int(present.max()) + 1 if present.size and present.max() >= 0 else 0
    return {c: label_components(labels, c, feasible, connectivity)[1] for c in range(k)}


def component_counts(data: SliceData, connectivity: int = 4) -> dict[str, int]:
    """Components per class name of a computed slice (feasible pixels only)."""
    counts = count_components(data.labels, data.feasible, connectivity, len(data.class_names))
    return {data.class_names[c]: n for c, n in counts.items()}


def anchor_pixel(data: SliceData, k: int, cls: int | None = None, search: int = 2) -> tuple[int, int] | None:
    """(row, col) of the pixel holding anchor k; with ``cls``, the nearest pixel of that class within ``search`` pixels."""
    (s0, s1), (t0, t1) = data.extent
    r = data.resolution
    s, t = data.anchors[k]
    col = int(np.clip(np.floor((s - s0) / (s1 - s0) * r), 0, r - 1))
    row = int(np.clip(np.floor((t - t0) / (t1 - t0) * r), 0, r - 1))
    if cls is None:
        return row, col
    best: tuple[float, tuple[int, int]] | None = None
    for i in range(max(row - search, 0), min(row + search + 1, r)):
        for j in range(max(col - search, 0), min(col + search + 1, r)):
            if data.labels[i, j] == cls and (best is None or (i - row) ** 2 + (j - col) ** 2 < best[0]):
                best = ((i - row) ** 2 + (j - col) ** 2, (i, j))
    return None if best is None else best[1]


def anchors_connected(data: SliceData, cls: int, i: int = 0, j: int = 1, connectivity: int = 4) -> bool:
    """Do anchors i and j lie in one connected component of class ``cls`` in this slice?"""
    ids, _ = label_components(data.labels, cls, data.feasible, connectivity)
    p, q = anchor_pixel(data, i, cls), anchor_pixel(data, j, cls)
    return bool(p is not None and q is not None and ids[p] != 0 and ids[p] == ids[q])


def segment_labels(model: Model, a: Any, b: Any, points: int = 128) -> np.ndarray:
    """Predicted classes at ``points`` equally spaced inputs from a to b (both included)."""
    pa, pb = as_input(a, model, "segment: a"), as_input(b, model, "segment: b")
    w = torch.linspace(0, 1, points).view(-1, *[1] * pa.ndim)
    return model.predict(model.bounds.clip((1 - w) * pa + w * pb)).cpu().numpy()


def disconnected_pairs(model: Model, x: torch.Tensor, *, max_pairs: int = 1, points: int = 64, max_tries: int = 5000) -> list[tuple[int, int]]:
    """Index pairs (i, j), i < j, of inputs with one predicted class whose straight segment leaves that class.

    Pairs are tried in order (i, then j), at most ``max_tries`` of them; all segments from
    one i are evaluated in one batch.
    """
    x = x.detach().cpu().float()
    pred = model.predict(x).cpu()
    w = torch.linspace(0, 1, points).view(1, -1, *[1] * (x.ndim - 1))
    found: list[tuple[int, int]] = []
    tries = 0
    for i in range(len(x) - 1):
        js = (torch.nonzero(pred[i + 1 :] == pred[i]).flatten() + i + 1)[: max_tries - tries]
        if len(js) == 0:
            continue
        tries += len(js)
        seg = model.bounds.clip((1 - w) * x[i][None, None] + w * x[js][:, None])
        labels = model.predict(seg.reshape(-1, *x.shape[1:])).cpu().reshape(len(js), points)
        for j in js[(labels != pred[i]).any(dim=1)].tolist():
            found.append((i, int(j)))
            if len(found) >= max_pairs:
                return found
        if tries >= max_tries:
            break
    return found


@dataclass
class ConnectivitySearch:
    """What the search found for inputs a, b of class ``cls`` (see ``find_connecting_slice``)."""

    cls: int
    class_name: str
    segment_leaves_class: bool  # does the straight segment a → b leave the class?
    segment_classes: list[str]  # classes met along a → b, in order of first appearance
    connectivity: int
    tried: list[dict[str, Any]] = field(default_factory=list)  # one row per third point: name, connected, components
    disconnected_name: str | None = None
    disconnected: SliceData | None = None  # a slice where a, b lie in different components
    connected_name: str | None = None
    connected: SliceData | None = None  # a slice where a, b lie in one component

    @property
    def found(self) -> bool:
        return self.connected is not None


def find_connecting_slice(
    model: Model,
    a: Any,
    b: Any,
    candidates: Mapping[str, Any],
    *,
    resolution: int = 128,
    connectivity: int = 4,
    stop_early: bool = True,
    points: int = 128,
    **slice_options: Any,
) -> ConnectivitySearch:
    """Try third points (name → input) for slices through a, b; report one where a, b of their common class
    are disconnected and one where they are connected.

    Raises when a and b are not predicted as one class. With ``stop_early`` the search stops
    once both kinds of slice are found; candidates collinear with a, b are skipped.
    """
    pa, pb = as_input(a, model, "find_connecting_slice: a"), as_input(b, model, "find_connecting_slice: b")
    la, lb = (int(v) for v in model.predict(torch.stack([pa, pb])).cpu())
    if la != lb:
        raise ValueError(f"find_connecting_slice: a and b must be predicted as one class, got {model.classes[la]!r} and {model.classes[lb]!r}")
    if not candidates:
        raise ValueError("find_connecting_slice: give at least one candidate third point (name → input)")
    seg = segment_labels(model, pa, pb, points)
    met = list(dict.fromkeys(model.classes[int(c)] for c in seg))
    out = ConnectivitySearch(la, model.classes[la], bool((seg != la).any()), met, connectivity)
    for name, c in candidates.items():
        try:
            data = compute_slice(model, pa, pb, c, resolution=resolution, **slice_options)
        except ValueError as exc:  # collinear or degenerate third point: note it, go on
            out.tried.append({"third point": name, "connected": None, "components": None, "note": str(exc)})
            continue
        joined = anchors_connected(data, la, 0, 1, connectivity)
        n = label_components(data.labels, la, data.feasible, connectivity)[1]
        out.tried.append({"third point": name, "connected": joined, "components": n, "note": ""})
        if joined and out.connected is None:
            out.connected, out.connected_name = data, name
        if not joined and out.disconnected is None:
            out.disconnected, out.disconnected_name = data, name
        if stop_early and out.connected is not None and out.disconnected is not None:
            break
    return out
