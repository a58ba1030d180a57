"""The Ray executor on a local 2-CPU cluster: bit-identical to the in-process run, and a killed worker loses nothing."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from advlab.cli import cli
from advlab.engine import RayExecutor, Shard, ShardContext, ShardStore, evaluation_shards, index_ranges, run_shards

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[None]:
    # Shard functions defined in this test module travel by value (workers cannot import the test module).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_evaluation_is_bit_identical_to_in_process(local_cluster: None, digits_run: Path, tmp_path: Path) -> None:
    attacks = [{"name": "pgd", "options": {"steps": 5}}, "fgsm"]  # random starts: seeds must match exactly
    shards = evaluation_shards([digits_run], attacks, [0.05, 0.1], 80, shard_size=20, seed=5)
    local = run_shards(shards, tmp_path / "local", engine="local")
    remote = run_shards(shards, tmp_path / "ray", engine="ray")
    assert remote.results == local.results
    workers = {ShardStore(tmp_path / "ray").record(s)["timing"]["worker"] for s in shards}  # type: ignore[index]
    assert all(w.split(":")[1] != str(os.getpid()) for w in workers)  # really ran in Ray's worker processes
    for s in shards:  # the stored files are the same bytes, timing aside
        a, b = (ShardStore(tmp_path / k).record(s) for k in ("local", "ray"))
        assert a is not None and b is not None and a["result"] == b["result"] and a["shard"] == b["shard"]


def die_on_first_attempt(shard: Shard, ctx: ShardContext) -> dict[str, object]:
    marker = ctx.workspace / f"attempt-{shard.start}"
    attempts = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(attempts))
    if shard.start == 4 and attempts == 1:
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-shard
    g = torch.Generator().manual_seed(shard.seed)
    return {"values": torch.rand(shard.stop - shard.start, generator=g).tolist()}


def test_a_killed_ray_worker_reruns_its_shard(local_cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from advlab.engine import shards as shards_mod

    monkeypatch.setitem(shards_mod._KINDS, "test-die", die_on_first_attempt)
    shards = [Shard.make("test-die", {}, a, b, run_seed=3) for a, b in index_ranges(12, 4)]
    run = run_shards(shards, tmp_path, engine=RayExecutor(max_retries=2))
    assert sorted(run.ran) == sorted(s.id for s in shards)
    assert (tmp_path / "attempt-4").read_text() == "2" and (tmp_path / "attempt-0").read_text() == "1"
    for s, res in zip(shards, run.results):
        assert res["values"] == torch.rand(4, generator=torch.Generator().manual_seed(s.seed)).tolist()


@pytest.mark.slow
def test_shards_beyond_the_retries_fail_cleanly_and_the_rerun_completes(
    local_cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from advlab.engine import shards as shards_mod

    monkeypatch.setitem(shards_mod._KINDS, "test-die", die_on_first_attempt)
    shards = [Shard.make("test-die", {}, a, b, run_seed=3) for a, b in index_ranges(12, 4)]
    with pytest.raises(RuntimeError, match="failed on Ray"):
        run_shards(shards, tmp_path, engine=RayExecutor(max_retries=0))
    again = run_shards(shards, tmp_path, engine=RayExecutor(max_retries=0))
    assert shards[1].id in again.ran and shards[1].id not in again.reused
    assert len(again.ran) + len(again.reused) == 3


@pytest.mark.slow
def test_sweep_command_on_ray_matches_in_process(local_cluster: None, tmp_path: Path) -> None:
    args = ["sweep", "--data", "digits", "--model", "mlp", "--option", "widths=[16]", "--method", "standard,fgsm",
            "--eps", "0.1", "--epochs", "2", "--lr", "0.003", "--attack", "fgsm", "--attack", "pgd:steps=3",
            "--eval-eps", "0.05,0.1", "--n", "60", "--shard-size", "30", "-q"]  # fmt: skip
    local = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    remote = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "ray"), "--engine", "ray"])
    assert remote.exit_code == 0, remote.output
    import json

    rows = [json.loads((tmp_path / k / "summary.json").read_text())["rows"] for k in ("local", "ray")]
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("train_seconds", "run")} for r in rs]
    assert strip(rows[0]) == strip(rows[1]) and len(rows[0]) == 2
    assert (tmp_path / "ray" / "sweep.png").stat().st_size > 1000
