"""Decision regions on a 2-D slice of the input box through three inputs (Świrszczyński et al.).

``compute_slice(model, a, b, c)`` evaluates the model on a resolution × resolution grid
over the smallest rectangle, one side parallel to ``side`` (default b − a), that contains
plane ∩ H (see ``slice_geometry``). Pixels outside H are never sent to the model: they
are ``feasible=False``, label −1 and NaN probabilities, drawn grey.

Conventions of ``SliceData``: plane coordinates (s, t) are input-space L2 units along the
orthonormal rows of ``basis``; ``origin`` is a flattened (d,); row i of every R × R array
is t_i (increasing upwards with ``imshow(origin="lower")``), column j is s_j; values sit
at pixel centres (see ``grid()``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.models.model import Model
from advlab.progress import progress
from advlab.viz.adaptive import default_step, refine_grid
from advlab.viz.cache import cache_key, load_arrays, resolve_cache_dir, save_arrays
from advlab.viz.slice_geometry import Extent, SliceGeometry, feasible_mask, pixel_centres, slice_geometry, zoom_window

_FORMAT = "advlab-slice/1"


@dataclass
class SliceData:
    """A computed slice: plane frame, R × R feasibility / labels / probabilities, anchors a, b, c."""

    origin: np.ndarray  # (d,) the point a, flattened
    basis: np.ndarray  # (2, d) orthonormal rows: e₁ along side, e₂ in-plane orthogonal
    extent: Extent  # ((s_min, s_max), (t_min, t_max)) of the picture (the zoom window if zoomed)
    feasible: np.ndarray  # (R, R) bool: pixel centre inside H
    labels: np.ndarray  # (R, R) int64, −1 where infeasible
    probabilities: np.ndarray  # (R, R, classes) float32, NaN where infeasible
    anchors: np.ndarray  # (3, 2) plane coordinates of a, b, c
    class_names: tuple[str, ...]
    evaluations: int  # model inputs evaluated to compute this slice
    input_shape: tuple[int, ...]
    lower: np.ndarray  # (d,) box H
    upper: np.ndarray  # (d,)
    angle: float = 0.0  # radians from (b − a) to e₁ (0 unless side= rotates the picture)
    full_extent: Extent | None = None  # the global rectangle ⊇ plane ∩ H (= extent when not zoomed)
    polygon: np.ndarray | None = None  # (V, 2) vertices of plane ∩ H, counter-clockwise
    center: np.ndarray | None = None  # zoom centre (s, t), None for the global view
    adaptive: bool = False

    @property
    def resolution(self) -> int:
        return int(self.labels.shape[0])

    @property
    def side(self) -> np.ndarray:
        """Unit d-vector along the picture's horizontal axis (e₁)."""
        return self.basis[0]

    @property
    def confidence(self) -> np.ndarray:
        """Top class probability per pixel (NaN where infeasible)."""
        return self.probabilities.max(axis=-1)

    @property
    def imshow_extent(self) -> tuple[float, float, float, float]:
        (s0, s1), (t0, t1) = self.extent
        return (s0, s1, t0, t1)

    @property
    def magnification(self) -> float:
        """Width of the global rectangle over the picture's width (1 when not zoomed)."""
        full = self.full_extent or self.extent
        return float((full[0][1] - full[0][0]) / (self.extent[0][1] - self.extent[0][0]))

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (S, T), each R × R: S[i, j] = s_j, T[i, j] = t_i."""
        s, t = pixel_centres(self.extent, self.resolution)
        ss, tt = np.meshgrid(s, t)
        return ss, tt

    def to_input(self, s: Any, t: Any = None) -> np.ndarray:
        """Input-space points a + s·e₁ + t·e₂ shaped (…, *input_shape); ``to_input(st)`` takes (…, 2)."""
        if t is None:
            st = np.asarray(s, dtype=np.float64)
            if st.shape[-1:] != (2,):
                raise ValueError(f"to_input: expected plane coordinates shaped (…, 2), got {st.shape}")
            s, t = st[..., 0], st[..., 1]
        s, t = np.broadcast_arrays(np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64))
        x = self.origin + s[..., None] * self.basis[0] + t[..., None] * self.basis[1]
        return x.reshape(*s.shape, *self.input_shape)

    def project(self, x: Any) -> np.ndarray:
        """Plane coordinates (…, 2) of inputs shaped (…, *input_shape) (orthogonal projection)."""
        arr = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
        k = len(self.input_shape)
        if arr.shape[arr.ndim - k :] != self.input_shape:
            raise ValueError(f"project: expected inputs shaped (…, {', '.join(map(str, self.input_shape))}), got {arr.shape}")
        lead = arr.shape[: arr.ndim - k]
        return ((arr.reshape(*lead, -1) - self.origin) @ self.basis.T).reshape(*lead, 2)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (plus one JSON string) for ``.npz`` storage without pickle."""
        meta = {
            "format": _FORMAT, "extent": self.extent, "full_extent": self.full_extent, "class_names": list(self.class_names),
            "evaluations": int(self.evaluations), "input_shape": list(self.input_shape), "angle": self.angle, "adaptive": self.adaptive,
        }
        arrays = {
            "origin": self.origin, "basis": self.basis, "feasible": self.feasible, "labels": self.labels,
            "probabilities": self.probabilities, "anchors": self.anchors, "lower": self.lower, "upper": self.upper,
            "meta": np.array(json.dumps(meta)),
        }
        if self.polygon is not None:
            arrays["polygon"] = self.polygon
        if self.center is not None:
            arrays["center"] = self.center
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SliceData:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"SliceData: unknown storage format {meta.get('format')!r}, expected {_FORMAT!r}")

        def ext(e: Any) -> Extent | None:
            return None if e is None else ((float(e[0][0]), float(e[0][1])), (float(e[1][0]), float(e[1][1])))

        extent = ext(meta["extent"])
        if extent is None:
            raise ValueError("SliceData: stored slice has no extent")
        return cls(
            origin=arrays["origin"], basis=arrays["basis"], extent=extent, feasible=arrays["feasible"],
            labels=arrays["labels"], probabilities=arrays["probabilities"], anchors=arrays["anchors"],
            class_names=tuple(meta["class_names"]), evaluations=int(meta["evaluations"]),
            input_shape=tuple(meta["input_shape"]), lower=arrays["lower"], upper=arrays["upper"],
            angle=float(meta["angle"]), full_extent=ext(meta["full_extent"]), polygon=arrays.get("polygon"),
            center=arrays.get("center"), adaptive=bool(meta["adaptive"]),
        )


def _as_point(x: Any, model: Model, name: str) -> np.ndarray:
    """One input as a flat float64 array, checked for shape, finiteness and the bounds."""
    arr = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    d = math.prod(model.input_shape)
    if arr.shape not in {tuple(model.input_shape), (1, *model.input_shape), (d,)}:
        raise ValueError(f"compute_slice: {name} must be one input shaped {tuple(model.input_shape)}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"compute_slice: {name} contains NaN or infinite values")
    return arr.reshape(-1)


def _default_batch_size(d: int) -> int:
    # About 16 MiB of float32 inputs per batch: big batches, bounded memory.
    return int(min(65536, max(256, 2**22 // max(d, 1))))


class _PlaneEvaluator:
    """Model probabilities at grid pixels, batched on the model's device under inference mode."""

    def __init__(self, model: Model, geometry: SliceGeometry, s: np.ndarray, t: np.ndarray, batch_size: int, quiet: bool,
                 on_batch: Callable[[int, int], None] | None = None, total: int = 0):
        self.on_batch, self.total = on_batch, total
        dev = model.device
        self.model, self.s, self.t, self.batch_size, self.quiet = model, s, t, batch_size, quiet
        self.origin = torch.as_tensor(geometry.origin, dtype=torch.float32, device=dev)
        self.basis = torch.as_tensor(geometry.basis, dtype=torch.float32, device=dev)
        self.lower = torch.as_tensor(geometry.lower, dtype=torch.float32, device=dev)
        self.upper = torch.as_tensor(geometry.upper, dtype=torch.float32, device=dev)
        bounds = model.bounds
        self.scalar_bounds = (float(bounds.lower), float(bounds.upper)) if bounds.is_scalar else None
        self.count = 0

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        n = len(rows)
        coords = torch.as_tensor(np.stack([self.s[cols], self.t[rows]], axis=1), dtype=torch.float32, device=self.origin.device)
        was_training = self.model.training
        self.model.eval()
        out: list[torch.Tensor] = []
        try:
            with torch.inference_mode(), progress(self.quiet or n <= self.batch_size, transient=True) as bar:
                task = bar.add_task("slice", total=n, info="")
                for i in range(0, n, self.batch_size):
                    st = coords[i : i + self.batch_size]
                    # a + s·e₁ + t·e₂ by two fused multiply-adds (a GEMM with inner size 2 is slower).
                    x = torch.addcmul(self.origin, st[:, :1], self.basis[0]).addcmul_(st[:, 1:], self.basis[1])
                    # Boundary pixels may sit a rounding error outside H: pull them onto it, in place.
                    if self.scalar_bounds is not None:
                        x.clamp_(*self.scalar_bounds)
                    else:
                        torch.clamp(x, self.lower, self.upper, out=x)
                    x = x.view(-1, *self.model.input_shape)
                    out.append(torch.softmax(self.model(x).float(), dim=1))
                    bar.advance(task, len(x))
                    if self.on_batch is not None:  # progress; raising here abandons the slice
                        self.on_batch(self.count + i + len(x), self.total)
        finally:
            self.model.train(was_training)
        self.count += n
        if not out:
            return np.empty((0, self.model.num_classes), dtype=np.float32)
        return torch.cat(out).cpu().numpy()


def compute_slice(
    model: Model,
    a: Any,
    b: Any,
    c: Any,
    *,
    resolution: int = 256,
    side: Any = None,
    zoom: float | None = None,
    half_width: float | tuple[float, float] | None = None,
    zoom_center: str | tuple[float, float] | None = None,
    batch_size: int | None = None,
    adaptive: bool = False,
    cache: bool | str | Any = None,
    quiet: bool = True,
    on_batch: Callable[[int, int], None] | None = None,
) -> SliceData:
    """Decision regions of ``model`` on the slice of its bounds box H through inputs a, b, c.

    ``side``: a d-vector (flat or input-shaped) in the plane giving the picture's horizontal
    axis (default b − a). ``zoom``/``half_width``/``zoom_center``: a local view (see
    ``slice_geometry.zoom_window``). ``adaptive=True`` refines only cells whose corner labels
    differ (``advlab.viz.adaptive``). ``cache``: ``True`` (``$ADVLAB_CACHE/slices`` or
    ``~/.cache/advlab/slices``), a folder, or None; a hit returns the stored arrays without
    calling the model (``evaluations`` then reports what the stored computation cost).
    Black-box models cannot be cached (nothing to hash). ``on_batch(evaluated, feasible)`` is called
    after every model batch (``feasible``: pixels inside H, an upper bound in adaptive mode); an
    exception it raises stops the computation and propagates (a server cancels a slice this way).
    """
    if not isinstance(model, Model):
        raise TypeError(f"compute_slice: expected an advlab Model (see advlab.models.wrap), got {type(model).__name__}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"compute_slice: resolution must be an integer ≥ 2, got {resolution!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"compute_slice: batch_size must be a positive integer or None, got {batch_size!r}")
    resolution = int(resolution)
    pa, pb, pc = (_as_point(x, model, n) for x, n in ((a, "a"), (b, "b"), (c, "c")))
    shape = tuple(model.input_shape)
    lower = model.bounds.lower.expand(shape).reshape(-1).double().cpu().numpy()
    upper = model.bounds.upper.expand(shape).reshape(-1).double().cpu().numpy()
    side_flat = None if side is None else _as_side(side, pa.size)
    try:
        geometry = slice_geometry(pa, pb, pc, lower, upper, side_flat)
    except ValueError as exc:
        raise ValueError(str(exc).replace("slice geometry", "compute_slice")) from None
    extent, center = zoom_window(geometry, zoom, half_width, zoom_center)

    folder = resolve_cache_dir(cache)
    path = None
    if folder is not None:
        key = cache_key(
            model, a=pa, b=pb, c=pc, side=side_flat, zoom=zoom, half_width=half_width, zoom_center=zoom_center,
            resolution=resolution, adaptive=bool(adaptive), step=default_step(resolution) if adaptive else None,
        )
        path = folder / f"{key}.npz"
        stored = load_arrays(path)
        if stored is not None:
            return SliceData.from_arrays(stored)

    s, t = pixel_centres(extent, resolution)
    feasible = feasible_mask(geometry, s, t)
    evaluate = _PlaneEvaluator(model, geometry, s, t, batch_size or _default_batch_size(pa.size), quiet, on_batch, int(feasible.sum()))
    k = model.num_classes
    if adaptive:
        labels, probs, _ = refine_grid(evaluate, feasible, k)
    else:
        labels = np.full(feasible.shape, -1, dtype=np.int64)
        probs = np.full((*feasible.shape, k), np.nan, dtype=np.float32)
        rows, cols = np.nonzero(feasible)
        p = evaluate(rows, cols)
        probs[rows, cols], labels[rows, cols] = p, p.argmax(axis=1)
    data = SliceData(
        origin=geometry.origin, basis=geometry.basis, extent=extent, feasible=feasible, labels=labels,
        probabilities=probs, anchors=geometry.anchors, class_names=tuple(model.classes), evaluations=evaluate.count,
        input_shape=shape, lower=lower, upper=upper, angle=geometry.angle, full_extent=geometry.extent,
        polygon=geometry.polygon, center=center, adaptive=bool(adaptive),
    )
    if path is not None:
        save_arrays(path, data.to_arrays())
    return data


def _as_side(side: Any, d: int) -> np.ndarray:
    arr = np.asarray(side.detach().cpu() if isinstance(side, torch.Tensor) else side, dtype=np.float64).reshape(-1)
    if arr.size != d:
        raise ValueError(f"compute_slice: side must be a direction with {d} values (flat or shaped like an input), got {arr.size}")
    return arr
