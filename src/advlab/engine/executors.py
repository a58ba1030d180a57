"""Where shards run: in this process (the default; Ray is never imported) or as Ray tasks.

Both executors call the same ``execute_shard`` on the same shard, with the same
CPU thread count, so their results are bit-identical. Results come back to the
driver, which writes them (``ShardStore``); a worker writes only files a shard
leaves behind on purpose (a trained model in its workspace).
"""

from __future__ import annotations

import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import torch

from advlab.engine.shards import Shard, ShardContext, ShardFunction, shard_function

#: what an executor reports per finished shard: the shard, its result, wall and CPU seconds, and the worker.
OnDone = Callable[[Shard, dict[str, Any], float, float, str], None]
ENGINES = ("local", "ray")


def execute_shard(fn: ShardFunction, shard: Shard, ctx: ShardContext) -> tuple[dict[str, Any], float, float, str]:
    """Run one shard with ``ctx.threads`` CPU threads; returns (result, wall s, CPU s, worker)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(ctx.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = fn(shard, ctx)
    finally:
        torch.set_num_threads(threads)
    if not isinstance(result, dict):
        raise TypeError(f"shard function for {shard.kind!r} returned {type(result).__name__}, expected a dict")
    return result, time.perf_counter() - t0, time.process_time() - c0, f"{socket.gethostname()}:{os.getpid()}"


class Executor(ABC):
    name: str = "executor"

    @abstractmethod
    def run(self, shards: Sequence[Shard], ctx: ShardContext, on_done: OnDone) -> None:
        """Run every shard, calling ``on_done`` as each finishes (in any order)."""


class LocalExecutor(Executor):
    """One shard after another in this process."""

    name = "local"

    def run(self, shards: Sequence[Shard], ctx: ShardContext, on_done: OnDone) -> None:
        for shard in shards:
            on_done(shard, *execute_shard(shard_function(shard.kind), shard, ctx))


class RayExecutor(Executor):
    """Shards as Ray tasks: ``address`` (or ``RAY_ADDRESS``) joins a cluster; without one, ``ray.init`` starts a
    local cluster with ``num_cpus`` CPUs. Each task asks for ``ctx.threads`` CPUs and ``gpus_per_shard`` GPUs (by
    default 1 when the cluster has GPUs, else 0). A worker that dies mid-shard is replaced and the shard is run
    again from its start (``max_retries`` times)."""

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, gpus_per_shard: float | None = None,
                 max_retries: int = 3):  # fmt: skip
        if num_cpus is not None and (not isinstance(num_cpus, int) or num_cpus < 1):
            raise ValueError(f"ray: num_cpus must be a positive integer, got {num_cpus!r}")
        if gpus_per_shard is not None and not (0 <= gpus_per_shard):
            raise ValueError(f"ray: gpus_per_shard must be >= 0, got {gpus_per_shard!r}")
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus = num_cpus
        self.gpus_per_shard = gpus_per_shard
        self.max_retries = int(max_retries)

    def _ray(self) -> tuple[Any, bool]:
        try:
            import ray
        except ImportError as exc:
            raise ValueError("engine 'ray' needs Ray: pip install 'advlab[ray]' (or pip install ray)") from exc
        if ray.is_initialized():
            return ray, False
        if self.address:
            ray.init(address=self.address, log_to_driver=False)
        else:
            ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
        return ray, True

    def run(self, shards: Sequence[Shard], ctx: ShardContext, on_done: OnDone) -> None:
        if not shards:
            return
        ray, started = self._ray()
        try:
            gpus = self.gpus_per_shard
            if gpus is None:
                gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
            task = ray.remote(num_cpus=ctx.threads, num_gpus=gpus, max_retries=self.max_retries)(execute_shard)
            fns = {kind: ray.put(shard_function(kind)) for kind in {s.kind for s in shards}}
            pending = {task.remote(fns[s.kind], s, ctx): s for s in shards}
            try:
                while pending:
                    (ref,), _ = ray.wait(list(pending), num_returns=1)
                    shard = pending.pop(ref)
                    try:
                        out = ray.get(ref)
                    except Exception as exc:  # a shard function's error, or a worker lost more than max_retries times
                        raise RuntimeError(f"shard {shard.id} failed on Ray: {exc}") from exc
                    on_done(shard, *out)
            finally:
                for ref in pending:
                    ray.cancel(ref)
        finally:
            if started:
                ray.shutdown()


def make_executor(engine: str | Executor | None = None, *, address: str | None = None, workers: int | None = None,
                  gpus_per_shard: float | None = None) -> Executor:  # fmt: skip
    """``"local"`` (default) or ``"ray"``; an ``Executor`` passes through."""
    if isinstance(engine, Executor):
        return engine
    if engine is None or engine == "local":
        return LocalExecutor()
    if engine == "ray":
        return RayExecutor(address, num_cpus=workers, gpus_per_shard=gpus_per_shard)
    raise ValueError(f"unknown engine {engine!r}; expected one of {list(ENGINES)}")
