"""Shards: stable ids and seeds, ranges, the store, and resuming after the process is killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from advlab.engine import Shard, ShardContext, ShardStore, derive_seed, index_ranges, register_shard_kind, run_shards


@register_shard_kind("test-noise")
def noise_shard(shard: Shard, ctx: ShardContext) -> dict[str, object]:
    g = torch.Generator().manual_seed(shard.seed)
    return {"values": torch.rand(shard.stop - shard.start, generator=g).tolist(), "scale": shard.config["scale"]}


def test_shard_id_and_seed_are_stable_and_depend_on_everything() -> None:
    a = Shard.make("test-noise", {"scale": 1, "b": [1, 2]}, 0, 10, run_seed=3)
    same = Shard.make("test-noise", {"b": [1, 2], "scale": 1}, 0, 10, run_seed=3)  # key order is irrelevant
    assert a.id == same.id and a.seed == same.seed
    # The id is a hash of kind, config and range: pinned so that a change of scheme (which would orphan every
    # stored result) cannot go unnoticed.
    assert a.id == "test-noise-" + __import__("hashlib").sha256(
        json.dumps(["test-noise", {"b": [1, 2], "scale": 1}, 0, 10], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()[:16]
    others = [Shard.make("test-noise", {"scale": 2, "b": [1, 2]}, 0, 10, run_seed=3),
              Shard.make("test-noise", {"scale": 1, "b": [1, 2]}, 10, 20, run_seed=3)]  # fmt: skip
    assert len({a.id, *(o.id for o in others)}) == 3
    assert Shard.make("test-noise", {"scale": 1, "b": [1, 2]}, 0, 10, run_seed=4).seed != a.seed
    assert a.seed == derive_seed(3, a.id) and 0 <= a.seed < 2**62
    assert Shard.from_json(a.to_json()) == a and Shard.from_json(a.to_json()).id == a.id


def test_shard_validation() -> None:
    with pytest.raises(ValueError, match="start <= stop"):
        Shard("k", {}, 5, 2)
    with pytest.raises(TypeError, match="JSON-serialisable"):
        Shard("k", {"x": object()})
    with pytest.raises(ValueError, match="non-negative"):
        derive_seed(-1, "x")
    with pytest.raises(ValueError, match="unknown shard kind"):
        run_shards([Shard("no-such-kind", {})], "/nonexistent-but-unused", engine="local")
    with pytest.raises(ValueError, match="unknown engine"):
        run_shards([], "/tmp", engine="dask")
    with pytest.raises(ValueError, match="already registered"):
        register_shard_kind("test-noise")(lambda s, c: {})


def test_index_ranges() -> None:
    assert index_ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert index_ranges(0, 4) == []
    with pytest.raises(ValueError, match="shard_size"):
        index_ranges(10, 0)


def test_rerun_reuses_stored_shards_and_ignores_damaged_files(tmp_path: Path) -> None:
    shards = [Shard.make("test-noise", {"scale": 1}, a, b, run_seed=0) for a, b in index_ranges(20, 5)]
    first = run_shards(shards[:2], tmp_path)
    assert sorted(first.ran) == sorted(s.id for s in shards[:2]) and first.reused == []
    store = ShardStore(tmp_path)
    store.path(shards[1]).write_text("{ truncated")  # never produced by an atomic write, but be safe
    full = run_shards(shards, tmp_path)
    assert full.reused == [shards[0].id]
    assert sorted(full.ran) == sorted(s.id for s in shards[1:])
    assert full.results == run_shards(shards, tmp_path / "fresh").results
    # each shard's numbers come from its own seed, not from the order of the run
    assert full.results[2]["values"] == torch.rand(5, generator=torch.Generator().manual_seed(shards[2].seed)).tolist()
    assert [p.name for p in store.folder.iterdir() if p.name.startswith(".")] == []  # no temporary files left


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import torch
    from advlab.engine import Shard, index_ranges, register_shard_kind, run_shards

    out, log = Path(sys.argv[1]), Path(sys.argv[2])

    @register_shard_kind("test-crash")
    def crash_shard(shard, ctx):
        with open(log, "a") as f:
            f.write(f"{shard.start}\\n")
        marker = out / "killed-once"
        if shard.start == 10 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-shard, nothing returned
        g = torch.Generator().manual_seed(shard.seed)
        return {"values": torch.rand(shard.stop - shard.start, generator=g).tolist()}

    shards = [Shard.make("test-crash", {}, a, b, run_seed=7) for a, b in index_ranges(25, 5)]
    run = run_shards(shards, out)
    print(sum(run.results[i]["values"][0] for i in range(len(shards))), len(run.ran), len(run.reused))
""")


def test_killed_process_loses_only_the_shard_in_flight(tmp_path: Path) -> None:
    script, out, log = tmp_path / "job.py", tmp_path / "out", tmp_path / "log.txt"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    killed = subprocess.run([sys.executable, str(script), str(out), str(log)], capture_output=True, text=True, env=env)
    assert killed.returncode == -9, killed.stderr
    assert len(list((out / "shards").glob("*.json"))) == 2  # shards 0:5 and 5:10 finished before the kill
    again = subprocess.run([sys.executable, str(script), str(out), str(log)], capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    total, ran, reused = again.stdout.split()
    assert (int(ran), int(reused)) == (3, 2)
    # shards 0 and 5 ran once; shard 10 twice (killed, then rerun from its start)
    assert log.read_text().split() == ["0", "5", "10", "10", "15", "20"]
    # the same numbers as an uninterrupted run: each shard's values come from its own seed only
    shards = [Shard.make("test-crash", {}, a, b, run_seed=7) for a, b in index_ranges(25, 5)]
    expected = sum(torch.rand(5, generator=torch.Generator().manual_seed(s.seed))[0].item() for s in shards)
    assert float(total) == pytest.approx(expected, abs=1e-12)


def test_ray_engine_without_ray_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    shards = [Shard.make("test-noise", {"scale": 1}, 0, 3)]
    with pytest.raises(ValueError, match=r"pip install 'advlab\[ray\]'"):
        run_shards(shards, tmp_path, engine="ray")


def test_the_in_process_engine_never_imports_ray(tmp_path: Path) -> None:
    code = ("import sys; from advlab.engine import Shard, run_shards, evaluation_shards; import advlab.cli; "
            "print('ray' in sys.modules)")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr
