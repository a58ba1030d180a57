"""Suite shards: ``advlab.evaluate``'s AutoAttack-style cascade (a preset suite of a norm) on an index range.

One shard is one model × one suite × all ε (the cascade reuses work across ε) × one range of points; the
result has the same form as a robustness shard (``clean`` and ``robust`` per point), so ``summarize`` merges
both. The suite module is imported only when a suite shard runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advlab.engine.evaluation import evaluation_shards, load_model, load_split
from advlab.engine.shards import Shard, ShardContext, register_shard_kind

KIND = "suite"


def _robust_accuracy() -> Any:
    # looked up at run time: the engine does not require the suites to import
    fn = getattr(importlib.import_module("advlab.evaluate"), "robust_accuracy", None)
    if fn is None:
        raise ValueError("suite shards need advlab.evaluate.robust_accuracy (the attack suites); this advlab has none")
    return fn


@register_shard_kind(KIND)
def suite_shard(shard: Shard, ctx: ShardContext) -> dict[str, Any]:
    """Per point of ``start:stop``: clean correct, robust at each ε after the whole suite, and which member broke it."""
    from advlab.device import resolve_device

    c, where = shard.config, shard.where
    model = load_model(where["model"]).to(resolve_device(ctx.device))
    x_all, y_all = load_split(c["data"], where.get("data_dir"), c.get("split", "test"))
    x, y = x_all[shard.start : shard.stop], y_all[shard.start : shard.stop]
    suite = c["suite"]
    res = _robust_accuracy()(model, x, y, eps=list(c["eps"]), norm=suite["norm"], preset=suite["preset"],
                             seed=shard.seed, batch_size=c.get("batch_size"), quiet=True)  # fmt: skip
    order = [list(res.eps).index(e) for e in c["eps"]]  # the cascade sorts ε; answer in the shard's order
    clean = res.clean_predictions.cpu() == res.labels.cpu()
    return {"clean": clean.int().tolist(), "robust": [res.robust[k].int().tolist() for k in order],
            "broken_by": [res.broken_by[k].tolist() for k in order], "members": list(res.member_names)}  # fmt: skip


def suite_shards(
    models: Sequence[str | Path],
    eps: Sequence[float],
    n: int,
    *,
    norm: str = "linf",
    preset: str = "standard",
    shard_size: int = 100,
    seed: int = 0,
    data: dict[str, Any] | None = None,
    data_dir: str | Path | None = None,
    batch_size: int | None = None,
) -> list[Shard]:
    """Shards running the ``preset`` suite of ``norm`` at every ε on ranges of ``n`` points of each model."""
    _robust_accuracy()  # fail before planning when the suites are missing
    return evaluation_shards(models, [], eps, n, shard_size=shard_size, seed=seed, data=data, data_dir=data_dir,
                             batch_size=batch_size, kind=KIND, per_eps=False,
                             extra={"suite": {"norm": norm, "preset": preset}})  # fmt: skip
