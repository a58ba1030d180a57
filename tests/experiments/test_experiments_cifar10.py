"""CIFAR-10 experiments on a small synthetic archive in the canonical format; a clear message without one."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from advlab.data import registry
from advlab.data.cifar import ARCHIVE
from advlab.data.errors import DatasetError
from advlab.experiments.registry import ExperimentContext
from advlab.experiments.runner import run_experiment


def _batch(rng: np.random.Generator, n: int) -> dict[bytes, object]:
    return {b"labels": [int(v) for v in rng.integers(0, 10, n)], b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}


@pytest.fixture
def synthetic_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cifar10/cifar-10-python.tar.gz with 5 × 40 training and 48 test images, registered under its md5."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "cifar10"
    folder.mkdir(parents=True)
    members = {**{f"data_batch_{i}": _batch(rng, 40) for i in range(1, 6)}, "test_batch": _batch(rng, 48)}
    with tarfile.open(folder / ARCHIVE, "w:gz") as tar:
        for name, obj in members.items():
            payload = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    md5 = hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()
    monkeypatch.setitem(registry.REMOTE, "cifar10", registry.REMOTE["cifar10"].with_file(ARCHIVE, md5))
    return tmp_path / "data"


def _ctx(out: Path, data_dir: Path, **options: object) -> ExperimentContext:
    return ExperimentContext(out, data_dir, quiet=True, device=None, seed=0, fast=True, options=dict(options))


def test_madry_cifar10_runs_on_synthetic_cifar(synthetic_cifar: Path, tmp_path: Path) -> None:
    out = tmp_path / "madry"
    result = run_experiment("madry-cifar10", _ctx(out, synthetic_cifar, n_eval=16, limit_train=64, limit_test=16))
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["evaluation"]) == {"fast", "pgd"}
    for e in metrics["evaluation"].values():
        assert e["n"] == 16 and 0 <= e["robust_accuracy"] <= e["clean_accuracy"] <= 1
    assert [c.paper for c in result.comparisons] == [83.81, 46.06, 87.3, 45.8]
    assert "width 4 (paper: 64)" in result.scale and "64 training images" in result.scale
    assert (out / "accuracy.png").stat().st_size > 1000
    assert len(list((out / "evaluation" / "shards").glob("*.json"))) == 2  # one shard per model (16 ≤ 100 points)
    # a rerun reuses the trained models and the evaluation shards
    again = run_experiment("madry-cifar10", _ctx(out, synthetic_cifar, n_eval=16, limit_train=64, limit_test=16))
    assert again.metrics["training"]["fast"]["reused"]
    strip = lambda ev: {k: {f: v for f, v in e.items() if f != "seconds"} for k, e in ev.items()}  # noqa: E731
    assert strip(again.metrics["evaluation"]) == strip(metrics["evaluation"])


def test_slices_cifar10_runs_on_synthetic_cifar(synthetic_cifar: Path, tmp_path: Path) -> None:
    out = tmp_path / "slices"
    result = run_experiment("slices-cifar10", _ctx(out, synthetic_cifar, limit_train=64, limit_test=16, resolution=12))
    assert len(result.metrics["slices"]) == 3 and (out / "slices.png").stat().st_size > 1000
    assert all(0 < row["inside H %"] <= 100 for row in result.metrics["slices"])
    assert "WRN-10-1" in result.scale and "WRN-28-10, 200 epochs" in result.scale


@pytest.mark.parametrize("name", ["madry-cifar10", "slices-cifar10"])
def test_without_cifar_the_experiments_say_what_to_do(name: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="advlab data fetch cifar10") as err:
        run_experiment(name, _ctx(tmp_path / "out", tmp_path / "empty"))
    assert str(tmp_path / "empty" / "cifar10") in str(err.value)
