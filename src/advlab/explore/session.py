"""What the explorer serves: the loaded runs and test set, and the computations behind each request.

``Session(runs, dataset)`` holds models (in eval mode) that share one input box, and the test
set the images come from. Its methods take validated requests (``advlab.explore.params``) and
return plain data; slices go through ``compute_slice(adaptive=True)`` with the job's progress
and cancellation hooked into every model batch, and are kept in an in-memory LRU cache.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advlab.attacks import ATTACKS, Attack
from advlab.data.dataset import Dataset
from advlab.explore.jobs import Job
from advlab.explore.params import AttackSpec, ChurchRequest, Limits, ParamError, SliceRequest, ThirdSpec
from advlab.models.model import Model
from advlab.viz.extend import extend_adversarial
from advlab.viz.profiles import compute_profiles
from advlab.viz.slices import SliceData, compute_slice
from advlab.viz.third_points import Grey, OtherSeed, RandomImage, RandomPerturbation, adversarial_of, third_point

_DEFAULT_EPS = {"linf": 0.1, "l2": 1.5, "l1": 10.0, "l0": 10.0}


@dataclass(frozen=True)
class LoadedRun:
    name: str
    model: Model


@dataclass
class Triangle:
    a: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor
    attack: str  # description of how b was made
    extended: float | None  # b moved to f × the minimal distance (minimisation attacks)
    fooled: bool  # the first run's class at b differs from a's


class _LRU:
    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict[Any, Any](), threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


class Session:
    """Runs that share an input box, the test set of images, and cached computations."""

    def __init__(self, runs: Sequence[LoadedRun], dataset: Dataset, *, max_resolution: int = 384, cache_size: int = 48):
        if not runs:
            raise ValueError("explore: give at least one run")
        first = runs[0].model
        for r in runs:
            if tuple(r.model.input_shape) != tuple(dataset.input_shape):
                raise ValueError(f"explore: run {r.name!r} takes inputs shaped {r.model.input_shape}, the data {dataset.input_shape}")
            if r.model.num_classes != first.num_classes:
                raise ValueError(f"explore: run {r.name!r} has {r.model.num_classes} classes, the first run {first.num_classes}")
            same = torch.equal(r.model.bounds.lower.cpu().expand(first.input_shape), first.bounds.lower.cpu().expand(first.input_shape)) \
                and torch.equal(r.model.bounds.upper.cpu().expand(first.input_shape), first.bounds.upper.cpu().expand(first.input_shape))
            if not same:
                raise ValueError(f"explore: run {r.name!r} has another input box than the first run; slices need one box")
            r.model.eval()
        if len(dataset.x_test) == 0:
            raise ValueError(f"explore: dataset {dataset.name!r} has no test images")
        self.runs = list(runs)
        self.data = dataset
        width = float((first.bounds.upper - first.bounds.lower).max())
        self.limits = Limits(n_test=len(dataset.x_test), dim=math.prod(first.input_shape), width=width,
                             attacks=tuple(ATTACKS.names()), n_runs=len(runs), max_resolution=max_resolution)
        self._predictions: dict[int, torch.Tensor] = {}
        self._triangles = _LRU(cache_size)
        self._slices = _LRU(cache_size)
        self._lock = threading.Lock()

    # --- what the page needs to build its controls ----------------------------------------------------
    def info(self) -> dict[str, Any]:
        first = self.runs[0].model
        return {
            "runs": [{"index": i, "name": r.name, "family": r.model.spec.get("family")} for i, r in enumerate(self.runs)],
            "dataset": self.data.name, "n_test": len(self.data.x_test), "classes": list(first.classes),
            "input_shape": list(first.input_shape), "attacks": list(self.limits.attacks),
            "minimization": [n for n in self.limits.attacks if ATTACKS.create(n).minimization],
            "default_eps": _DEFAULT_EPS, "max_resolution": self.limits.max_resolution,
            "max_eps": {n: self.limits.max_eps(n) for n in ("linf", "l2", "l1", "l0")},
        }

    def predictions(self, run: int) -> torch.Tensor:
        with self._lock:
            if run not in self._predictions:
                self._predictions[run] = self.runs[run].model.predict(self.data.x_test).cpu()
            return self._predictions[run]

    def images(self, cls: int | None, misclassified: bool, run: int, limit: int) -> dict[str, Any]:
        y, pred = self.data.y_test, self.predictions(run)
        keep = torch.ones(len(y), dtype=torch.bool)
        if cls is not None:
            keep &= y == cls
        if misclassified:
            keep &= pred != y
        idx = torch.nonzero(keep).flatten()
        rows = [{"index": int(i), "label": int(y[i]), "prediction": int(pred[i])} for i in idx[:limit]]
        return {"count": int(len(idx)), "images": rows}

    def image(self, index: int) -> dict[str, Any]:
        x = self.data.x_test[index]
        probs = self.runs[0].model.predict_proba(x[None]).cpu()[0]
        return {"index": index, "label": int(self.data.y_test[index]), "pixels": _pixels(x), "probabilities": probs.tolist()}

    # --- the three points ------------------------------------------------------------------------------
    def make_attack(self, spec: AttackSpec) -> tuple[Attack, float | None]:
        try:
            given = {k: v for k, v in {"norm": spec.norm, "steps": spec.steps}.items() if v is not None}
            atk = ATTACKS.create(spec.name, **given)
        except ValueError as exc:
            raise ParamError(str(exc)) from None
        eps = spec.eps
        if atk.minimization:
            eps = None
        elif eps is None:
            eps = _DEFAULT_EPS.get(atk.norm.name, 0.1)
        if eps is not None and eps > self.limits.max_eps(atk.norm.name):
            raise ParamError(f"eps: {eps:g} is out of range (0, {self.limits.max_eps(atk.norm.name):g}] for the {atk.norm.name} norm")
        return atk, eps

    def triangle(self, req: SliceRequest, job: Job | None = None) -> Triangle:
        key = req.triangle_key()
        hit = self._triangles.get(key)
        if hit is not None:
            return hit
        model = self.runs[0].model
        a = self.data.x_test[req.index]
        atk, eps = self.make_attack(req.attack)
        if job is not None:
            job.step(f"attack: {atk.name}")
        b = adversarial_of(model, a, atk, eps=eps, seed=req.seed)
        extended = None
        if atk.minimization:
            b, extended = extend_adversarial(model, a, b, req.extend)
        if job is not None:
            job.step("third point")
        c = self._third(req.third, a, b, atk, eps)
        pred = model.predict(torch.stack([a, b])).cpu()
        desc = f"{atk.name} ({atk.norm.name}{'' if eps is None else f', ε = {eps:g}'})"
        tri = Triangle(a, b.float(), c.float(), desc, extended, bool(pred[0] != pred[1]))
        self._triangles.put(key, tri)
        return tri

    def _third(self, spec: ThirdSpec, a: torch.Tensor, b: torch.Tensor, atk: Attack, eps: float | None) -> torch.Tensor:
        model = self.runs[0].model
        gen = torch.Generator().manual_seed(spec.seed)
        if spec.kind == "attack":
            other, other_eps = self.make_attack(AttackSpec(spec.attack or "fgsm", None, eps, None))
            return adversarial_of(model, a, other, eps=other_eps, seed=spec.seed)
        if spec.kind == "seed":
            return third_point(OtherSeed(spec.seed), model, a, b, attack=atk, eps=eps)
        if spec.kind == "model":
            other_model = self.runs[spec.run or 0].model
            return adversarial_of(other_model, a, atk, eps=eps, seed=spec.seed)
        if spec.kind == "image":
            return self.data.x_test[spec.index or 0].clone()
        if spec.kind == "random-perturbation":
            return third_point(RandomPerturbation(size=float(spec.size or 0.0), norm=spec.norm), model, a, b, generator=gen)
        return third_point(Grey() if spec.kind == "grey" else RandomImage(), model, a, b, generator=gen)

    # --- slices ----------------------------------------------------------------------------------------
    def slice(self, req: SliceRequest, run: int, tri: Triangle, job: Job | None = None) -> SliceData:
        key = (req.triangle_key(), run, req.resolution, req.view, req.zoom, req.center)
        hit = self._slices.get(key)
        if hit is not None:
            return hit
        zoom: float | None = None
        half_width: float | None = None
        center: Any = None
        if req.view == "local":  # a window of ±0.75‖b − a‖ that holds a and b, magnified further by zoom
            half_width = 0.75 * float((tri.b - tri.a).norm()) / req.zoom
            center = req.center
        elif req.zoom > 1 or not isinstance(req.center, str) or req.center != "ab":
            zoom, center = req.zoom, req.center
        label = f"slice: {self.runs[run].name}"
        on_batch = None if job is None else (lambda done, total: job.step(label, done, total))
        data = compute_slice(self.runs[run].model, tri.a, tri.b, tri.c, resolution=req.resolution, zoom=zoom,
                             half_width=half_width, zoom_center=center, adaptive=True, on_batch=on_batch)
        self._slices.put(key, data)
        return data

    def profiles(self, tri: Triangle, run: int, points: int = 120) -> dict[str, Any]:
        p = compute_profiles(self.runs[run].model, tri.a, tri.b, tri.c, points=points)
        return {"positions": p.positions.tolist(), "probabilities": np.round(p.probabilities, 5).tolist(),
                "anchors": p.anchor_positions.tolist(), "anchor_names": list(p.anchor_names),
                "changes": [p.class_changes(k) for k in range(3)]}

    def probe(self, data: SliceData, run: int, s: float, t: float) -> dict[str, Any]:
        """The input at plane point (s, t), and the model's probabilities there when it lies in H."""
        x = torch.as_tensor(data.to_input(s, t), dtype=torch.float32)
        model = self.runs[run].model
        inside = bool(model.bounds.contains(x[None], atol=1e-6).item())
        out: dict[str, Any] = {"s": s, "t": t, "inside": inside, "pixels": _pixels(model.bounds.clip(x[None])[0])}
        if inside:
            probs = model.predict_proba(model.bounds.clip(x[None])).cpu()[0]
            out.update(probabilities=probs.tolist(), prediction=int(probs.argmax()))
        return out

    def church(self, req: ChurchRequest, job: Job | None = None) -> Any:
        from advlab.viz.church import compute_church_windows

        atk, eps = self.make_attack(req.attack)
        if job is not None:
            job.step(f"church windows: {atk.name}")
        x = self.data.x_test[req.index : req.index + 1]
        return compute_church_windows(self.runs[req.run].model, x, self.data.y_test[req.index : req.index + 1], attack=atk, eps=eps,
                                      kinds=("adversarial", "random"), resolution=req.resolution, seed=req.seed, center=req.center)


def _pixels(x: torch.Tensor) -> list[Any]:
    """An input as nested lists for the page: (H, W) grey or (H, W, 3) colour, rounded to 4 decimals."""
    arr = x.detach().cpu().numpy().astype(np.float64)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    elif arr.ndim == 3 and arr.shape[0] == 3:
        arr = np.moveaxis(arr, 0, -1)
    elif arr.ndim == 1:
        arr = arr[None, :]
    return np.round(arr, 4).tolist()
