"""Where work runs: shards (seeded, resumable, stored atomically) on an in-process or a Ray executor.

Importing this package never imports Ray; ``engine="ray"`` does, when a run starts.
"""

from advlab.engine.evaluation import AttackSpec, evaluation_shards, robustness_shard, summarize
from advlab.engine.executors import ENGINES, Executor, LocalExecutor, RayExecutor, execute_shard, make_executor
from advlab.engine.run import ShardRun, run_shards
from advlab.engine.shards import (
    Shard,
    ShardContext,
    ShardFunction,
    derive_seed,
    index_ranges,
    register_shard_kind,
    shard_function,
    shard_kinds,
)
from advlab.engine.store import ShardStore
from advlab.engine.suite import suite_shard, suite_shards

__all__ = [
    "ENGINES",
    "AttackSpec",
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "Shard",
    "ShardContext",
    "ShardFunction",
    "ShardRun",
    "ShardStore",
    "derive_seed",
    "evaluation_shards",
    "execute_shard",
    "index_ranges",
    "make_executor",
    "register_shard_kind",
    "robustness_shard",
    "run_shards",
    "shard_function",
    "shard_kinds",
    "suite_shard",
    "suite_shards",
    "summarize",
]
