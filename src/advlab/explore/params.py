"""Request parameters of the explorer, parsed and checked once at the edge.

Every request body is a JSON object; ``parse_slice`` and friends turn it into a frozen
dataclass or raise ``ParamError`` (the server answers 400 with its message). Names are
checked against the registries and the loaded runs, numbers against explicit ranges; no
value ever names a file: runs and images are addressed by their index in what the server
loaded at start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_RESOLUTION = 384
MIN_RESOLUTION = 16
NORMS = ("linf", "l2", "l1", "l0")
THIRD_KINDS = ("grey", "random-image", "random-perturbation", "attack", "seed", "model", "image")
VIEWS = ("global", "local")
CENTERS = ("ab", "a", "b", "c")
CHURCH_CENTERS = ("image", "midpoint")
MAX_STEPS = 1000
MAX_SEED = 2**31 - 1
MAX_ZOOM = 1e5


class ParamError(ValueError):
    """A request parameter is missing, of the wrong type, out of range or unknown."""


@dataclass(frozen=True)
class Limits:
    """What the loaded runs allow: test-set size, input dimension, box width, attack names, run count."""

    n_test: int
    dim: int
    width: float  # largest coordinate range of the box H
    attacks: tuple[str, ...]
    n_runs: int
    max_resolution: int = MAX_RESOLUTION

    def max_eps(self, norm: str) -> float:
        """The ε of a perturbation that can reach any point of H from any other, in ``norm``."""
        return {"linf": self.width, "l2": self.width * math.sqrt(self.dim), "l1": self.width * self.dim, "l0": float(self.dim)}[norm]


@dataclass(frozen=True)
class AttackSpec:
    name: str
    norm: str | None
    eps: float | None
    steps: int | None


@dataclass(frozen=True)
class ThirdSpec:
    kind: str
    attack: str | None = None  # kind "attack"
    size: float | None = None  # kind "random-perturbation"
    norm: str = "l2"  # kind "random-perturbation"
    seed: int = 1  # kind "seed"; also the generator of random kinds
    run: int | None = None  # kind "model"
    index: int | None = None  # kind "image"


@dataclass(frozen=True)
class SliceRequest:
    index: int
    attack: AttackSpec
    third: ThirdSpec
    runs: tuple[int, ...]
    resolution: int
    view: str
    zoom: float
    center: str | tuple[float, float]
    seed: int
    extend: float

    def triangle_key(self) -> tuple[Any, ...]:
        return (self.index, self.attack, self.third, self.seed, self.extend)


@dataclass(frozen=True)
class ChurchRequest:
    index: int
    attack: AttackSpec
    run: int
    resolution: int
    center: str
    seed: int


def _get(body: dict[str, Any], key: str, default: Any = None) -> Any:
    return body.get(key, default)


def _int(body: dict[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int:
    v = _get(body, key, default)
    if v is None:
        raise ParamError(f"{key}: required, an integer in [{lo}, {hi}]")
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            v = int(v)
        else:
            raise ParamError(f"{key}: expected an integer in [{lo}, {hi}], got {v!r}")
    if not lo <= v <= hi:
        raise ParamError(f"{key}: {v} is out of range [{lo}, {hi}]")
    return int(v)


def _float(body: dict[str, Any], key: str, lo: float, hi: float, default: float | None = None, *, open_lo: bool = False) -> float:
    v = _get(body, key, default)
    if v is None:
        raise ParamError(f"{key}: required, a number in {'(' if open_lo else '['}{lo:g}, {hi:g}]")
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ParamError(f"{key}: expected a number, got {v!r}")
    try:
        f = float(v)
    except ValueError:
        raise ParamError(f"{key}: expected a number, got {v!r}") from None
    if not math.isfinite(f) or f > hi or f < lo or (open_lo and f <= lo):
        raise ParamError(f"{key}: {v!r} is out of range {'(' if open_lo else '['}{lo:g}, {hi:g}]")
    return f


def _choice(body: dict[str, Any], key: str, choices: tuple[str, ...], default: str | None = None) -> str:
    v = _get(body, key, default)
    if not isinstance(v, str) or v not in choices:
        raise ParamError(f"{key}: expected one of {', '.join(choices)}, got {v!r}")
    return v


def _check_keys(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ParamError(f"the request body must be a JSON object, got {type(body).__name__}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ParamError(f"unknown parameter(s) {', '.join(map(repr, unknown))}; expected some of {', '.join(sorted(allowed))}")
    return body


def parse_attack(body: dict[str, Any], limits: Limits, prefix: str = "") -> AttackSpec:
    name = _choice(body, prefix + "attack", limits.attacks)
    norm = _get(body, prefix + "norm")
    if norm is not None:
        norm = _choice(body, prefix + "norm", NORMS)
    eps = None
    if _get(body, prefix + "eps") is not None:
        # the widest norm here; the session checks ε against the attack's own norm once it is built
        eps = _float(body, prefix + "eps", 0.0, limits.max_eps(norm or "l1"), open_lo=True)
    steps = None if _get(body, prefix + "steps") is None else _int(body, prefix + "steps", 1, MAX_STEPS)
    return AttackSpec(name, norm, eps, steps)


_SLICE_KEYS = {"index", "attack", "norm", "eps", "steps", "third", "third_attack", "third_size", "third_norm", "third_seed",
               "third_run", "third_index", "runs", "resolution", "view", "zoom", "center", "seed", "extend"}


def parse_slice(body: Any, limits: Limits) -> SliceRequest:
    body = _check_keys(body, _SLICE_KEYS)
    index = _int(body, "index", 0, limits.n_test - 1)
    attack = parse_attack(body, limits)
    third = parse_third(body, limits)
    runs_raw = _get(body, "runs", [0])
    if not isinstance(runs_raw, list) or not runs_raw or len(runs_raw) > limits.n_runs:
        raise ParamError(f"runs: expected a non-empty list of at most {limits.n_runs} run numbers, got {runs_raw!r}")
    runs = tuple(_int({"runs": r}, "runs", 0, limits.n_runs - 1) for r in runs_raw)
    if len(set(runs)) != len(runs):
        raise ParamError(f"runs: each run at most once, got {runs_raw!r}")
    resolution = _int(body, "resolution", MIN_RESOLUTION, limits.max_resolution, 128)
    view = _choice(body, "view", VIEWS, "global")
    zoom = _float(body, "zoom", 1.0, MAX_ZOOM, 1.0)
    center_raw = _get(body, "center", "ab")
    center: str | tuple[float, float]
    if isinstance(center_raw, list):
        if len(center_raw) != 2:
            raise ParamError(f"center: expected 'ab', 'a', 'b', 'c' or [s, t], got {center_raw!r}")
        s = _float({"s": center_raw[0]}, "s", -1e6, 1e6)
        t = _float({"t": center_raw[1]}, "t", -1e6, 1e6)
        center = (s, t)
    else:
        center = _choice(body, "center", CENTERS, "ab")
    seed = _int(body, "seed", 0, MAX_SEED, 0)
    extend = _float(body, "extend", 1.0, 4.0, 1.5)
    return SliceRequest(index, attack, third, runs, resolution, view, zoom, center, seed, extend)


def parse_third(body: dict[str, Any], limits: Limits) -> ThirdSpec:
    kind = _choice(body, "third", THIRD_KINDS, "grey")
    seed = _int(body, "third_seed", 0, MAX_SEED, 1)
    if kind == "attack":
        return ThirdSpec(kind, attack=_choice(body, "third_attack", limits.attacks), seed=seed)
    if kind == "random-perturbation":
        norm = _choice(body, "third_norm", ("linf", "l2", "l1"), "l2")
        return ThirdSpec(kind, size=_float(body, "third_size", 0.0, limits.max_eps(norm), open_lo=True), norm=norm, seed=seed)
    if kind == "model":
        if limits.n_runs < 2:
            raise ParamError("third: 'model' needs a second run; start the explorer with two or more runs")
        return ThirdSpec(kind, run=_int(body, "third_run", 0, limits.n_runs - 1), seed=seed)
    if kind == "image":
        return ThirdSpec(kind, index=_int(body, "third_index", 0, limits.n_test - 1), seed=seed)
    return ThirdSpec(kind, seed=seed)


_CHURCH_KEYS = {"index", "attack", "norm", "eps", "steps", "run", "resolution", "center", "seed"}


def parse_church(body: Any, limits: Limits) -> ChurchRequest:
    body = _check_keys(body, _CHURCH_KEYS)
    return ChurchRequest(
        index=_int(body, "index", 0, limits.n_test - 1), attack=parse_attack(body, limits),
        run=_int(body, "run", 0, limits.n_runs - 1, 0), resolution=_int(body, "resolution", 8, 96, 48),
        center=_choice(body, "center", CHURCH_CENTERS, "midpoint"), seed=_int(body, "seed", 0, MAX_SEED, 0),
    )


def parse_probe(body: Any, n_panels: int) -> tuple[int, float, float]:
    body = _check_keys(body, {"panel", "s", "t"})
    return _int(body, "panel", 0, max(n_panels - 1, 0), 0), _float(body, "s", -1e6, 1e6), _float(body, "t", -1e6, 1e6)


def parse_image_query(query: dict[str, str], limits: Limits, n_classes: int) -> tuple[int | None, bool, int, int]:
    """(class or None, misclassified only, run, limit) from a query string."""
    body = _check_keys(dict(query), {"class", "misclassified", "run", "limit"})
    cls = None if body.get("class") in (None, "", "any") else _int(body, "class", 0, n_classes - 1)
    mis = _choice(body, "misclassified", ("0", "1", "false", "true"), "0") in ("1", "true")
    return cls, mis, _int(body, "run", 0, limits.n_runs - 1, 0), _int(body, "limit", 1, 500, 100)
