"""The output folder of a sharded run: one JSON file per finished shard, written atomically.

A shard's file holds the shard itself (kind, config, range, seed), its result and
how long it took. A rerun reads the folder first and runs only the shards whose
file is missing or unreadable, so a run killed at any moment loses only the
shards that were in flight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advlab._io import write_json
from advlab.engine.shards import Shard

SHARDS_DIR = "shards"


class ShardStore:
    """``out/shards/<shard id>.json`` for every finished shard."""

    def __init__(self, out: str | Path):
        self.root = Path(out)
        self.folder = self.root / SHARDS_DIR

    def path(self, shard: Shard) -> Path:
        return self.folder / f"{shard.id}.json"

    def get(self, shard: Shard) -> dict[str, Any] | None:
        """The stored result of ``shard``, or None when it has not finished (or its file is damaged)."""
        record = self.record(shard)
        return None if record is None else record["result"]

    def record(self, shard: Shard) -> dict[str, Any] | None:
        path = self.path(shard)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None  # never written by us in this state (writes are atomic): treat as not done
        if not isinstance(record, dict) or record.get("shard") != shard.identity() or "result" not in record:
            return None
        return record

    def put(self, shard: Shard, result: dict[str, Any], seconds: float, cpu_seconds: float, worker: str) -> Path:
        record = {"shard": shard.identity(), "where": shard.where, "result": result,
                  "timing": {"seconds": seconds, "cpu_seconds": cpu_seconds, "worker": worker}}  # fmt: skip
        return write_json(self.path(shard), record)

    def done(self, shards: list[Shard]) -> set[str]:
        return {s.id for s in shards if self.get(s) is not None}
