"""Shards: the unit of work the engine schedules, and the registry of what each kind of shard runs.

A ``Shard`` is plain data — ``kind``, a JSON config, an index range and a seed — so
it can travel to any worker and be written next to its result. Its ``id`` is a
hash of kind, config and range (stable across processes and machines); its seed
comes from the run seed and that id, so a shard gives the same answer wherever,
whenever and in whatever order it runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: seeds are drawn below 2**62 (what torch.Generator.manual_seed and the attacks take without fuss).
SEED_MODULUS = 2**62


def canonical_json(obj: Any) -> str:
    """The one text of ``obj`` that hashing uses: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def derive_seed(run_seed: int, *parts: Any) -> int:
    """A seed from the run seed and any JSON-able labels (shard id, attack index…), the same everywhere."""
    if not isinstance(run_seed, int) or isinstance(run_seed, bool) or run_seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {run_seed!r}")
    digest = hashlib.sha256(canonical_json([run_seed, *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MODULUS


@dataclass(frozen=True)
class Shard:
    """One piece of work: ``kind`` names the shard function; ``config`` is JSON; ``start:stop`` the
    index range it covers (0:0 for work without one, e.g. a training configuration).

    ``where`` says where the inputs lie (file paths, a data folder): it travels with the shard but is not
    part of its identity, so moving a run folder changes neither the shard's id nor its seed. What
    identifies an input (e.g. a model file's SHA-256) belongs in ``config``.
    """

    kind: str
    config: dict[str, Any]
    start: int = 0
    stop: int = 0
    seed: int = 0
    where: dict[str, Any] = field(default_factory=dict, compare=False)
    id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"shard: kind must be a non-empty string, got {self.kind!r}")
        if not isinstance(self.config, dict):
            raise TypeError(f"shard: config must be a dict, got {type(self.config).__name__}")
        if not (0 <= self.start <= self.stop):
            raise ValueError(f"shard: expected 0 <= start <= stop, got {self.start}:{self.stop}")
        try:
            text = canonical_json([self.kind, self.config, self.start, self.stop])
        except (TypeError, ValueError) as exc:
            raise TypeError(f"shard: config must be JSON-serialisable ({exc})") from exc
        object.__setattr__(self, "id", f"{self.kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}")

    @classmethod
    def make(cls, kind: str, config: dict[str, Any], start: int = 0, stop: int = 0, *, run_seed: int = 0,
             where: dict[str, Any] | None = None) -> Shard:  # fmt: skip
        """A shard seeded from (``run_seed``, its id)."""
        bare = cls(kind, config, start, stop)
        return cls(kind, config, start, stop, derive_seed(run_seed, bare.id), dict(where or {}))

    def identity(self) -> dict[str, Any]:
        """What the shard is (stored beside its result and checked on reuse); ``where`` excluded."""
        return {"id": self.id, "kind": self.kind, "config": self.config, "start": self.start, "stop": self.stop, "seed": self.seed}

    def to_json(self) -> dict[str, Any]:
        return {**self.identity(), "where": self.where}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Shard:
        return cls(obj["kind"], obj["config"], int(obj["start"]), int(obj["stop"]), int(obj["seed"]), dict(obj.get("where", {})))


@dataclass(frozen=True)
class ShardContext:
    """Where a shard runs: ``workspace`` for files it leaves (a trained model…), CPU ``threads``, ``device``."""

    workspace: Path
    threads: int = 1
    device: str | None = None
    quiet: bool = True


#: A shard function: pure in its inputs (shard + context) → a JSON-able dict.
ShardFunction = Callable[[Shard, ShardContext], dict[str, Any]]

_KINDS: dict[str, ShardFunction] = {}


def register_shard_kind(kind: str) -> Callable[[ShardFunction], ShardFunction]:
    """Register the function that runs shards of ``kind`` (a clash with another function is an error)."""

    def deco(fn: ShardFunction) -> ShardFunction:
        if kind in _KINDS and _KINDS[kind] is not fn:
            raise ValueError(f"shard kind {kind!r} is already registered to {_KINDS[kind].__qualname__}")
        _KINDS[kind] = fn
        return fn

    return deco


def shard_kinds() -> list[str]:
    return sorted(_KINDS)


def shard_function(kind: str) -> ShardFunction:
    if kind not in _KINDS:
        raise ValueError(f"unknown shard kind {kind!r}; expected one of {shard_kinds()}")
    return _KINDS[kind]


def index_ranges(n: int, shard_size: int) -> list[tuple[int, int]]:
    """``[0, n)`` cut into consecutive ranges of ``shard_size`` (the last may be shorter)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not isinstance(shard_size, int) or isinstance(shard_size, bool) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    return [(s, min(s + shard_size, n)) for s in range(0, n, shard_size)]
