"""``run_shards``: skip what the output folder already holds, run the rest on an executor, store each result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advlab.engine.executors import Executor, make_executor
from advlab.engine.shards import Shard, ShardContext
from advlab.engine.store import ShardStore
from advlab.progress import progress


@dataclass
class ShardRun:
    """What a run did: every shard's result (in the order given) and which shards ran now or were reused."""

    shards: list[Shard]
    results: list[dict[str, Any]]
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    timings: dict[str, dict[str, Any]] = field(default_factory=dict)


def run_shards(
    shards: Sequence[Shard],
    out: str | Path,
    *,
    engine: str | Executor | None = None,
    threads: int = 1,
    device: str | None = None,
    quiet: bool = True,
    description: str = "shards",
) -> ShardRun:
    """Run ``shards`` (those without a result in ``out`` only) and return all their results.

    ``threads``: CPU threads per shard, the same on every executor (so results are
    bit-identical between them). Each result is written atomically as it arrives.
    """
    shards = list(shards)
    ids = [s.id for s in shards]
    if len(set(ids)) != len(ids):
        raise ValueError("run_shards: two shards have the same kind, config and range; each piece of work must appear once")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"run_shards: threads must be a positive integer, got {threads!r}")
    executor = make_executor(engine)
    store = ShardStore(out)
    store.folder.mkdir(parents=True, exist_ok=True)
    done = store.done(shards)
    todo = [s for s in shards if s.id not in done]
    ctx = ShardContext(workspace=store.root, threads=threads, device=device, quiet=True)
    run = ShardRun(shards, [], reused=[s.id for s in shards if s.id in done])
    with progress(quiet) as bar:
        task = bar.add_task(f"{description} [{executor.name}]", total=len(shards), info=f"{len(done)} reused")
        bar.advance(task, len(done))

        def on_done(shard: Shard, result: dict[str, Any], seconds: float, cpu_seconds: float, worker: str) -> None:
            store.put(shard, result, seconds, cpu_seconds, worker)
            run.ran.append(shard.id)
            bar.advance(task, 1)

        executor.run(todo, ctx, on_done)
    for shard in shards:
        record = store.record(shard)
        if record is None:
            raise RuntimeError(f"run_shards: shard {shard.id} has no stored result after the run")
        run.results.append(record["result"])
        run.timings[shard.id] = record.get("timing", {})
    return run
