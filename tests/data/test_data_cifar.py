"""CIFAR-10 loader on a small archive in the canonical layout."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from advlab import data
from advlab.data import registry
from advlab.data.cifar import ARCHIVE
from advlab.data.errors import DatasetError

PER_BATCH = 4


def _batch(seed: int, n: int) -> dict[bytes, object]:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": f"batch {seed}".encode(),
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def _write_archive(path: Path, members: dict[str, object]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            payload = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


@pytest.fixture
def small_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, dict[bytes, object]]]:
    """A 6-batch archive with 4 images each, registered under its own md5."""
    batches = {f"data_batch_{i}": _batch(i, PER_BATCH) for i in range(1, 6)}
    batches["test_batch"] = _batch(0, PER_BATCH)
    meta = {b"label_names": [n.encode() for n in registry.CIFAR10_NAMES], b"num_vis": 3072}
    folder = tmp_path / "cifar10"
    folder.mkdir()
    _write_archive(folder / ARCHIVE, {"batches.meta": meta, **batches})
    md5 = hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()
    monkeypatch.setitem(registry.REMOTE, "cifar10", registry.REMOTE["cifar10"].with_file(ARCHIVE, md5))
    return tmp_path, batches


def test_cifar10_small_archive(small_cifar: tuple[Path, dict[str, dict[bytes, object]]]) -> None:
    root, batches = small_cifar
    ds = data.load("cifar10", data_dir=root, download=False)
    assert ds.x_train.shape == (5 * PER_BATCH, 3, 32, 32) and ds.x_test.shape == (PER_BATCH, 3, 32, 32)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert bool(ds.bounds.contains(ds.x_train).all())
    assert ds.class_names[0] == "airplane" and ds.num_classes == 10
    first = np.asarray(batches["data_batch_1"][b"data"])[0]
    # row layout: 1024 red, then green, then blue values, each plane row-major
    torch.testing.assert_close(ds.x_train[0, 1, 0, 5], torch.tensor(first[1024 + 5] / 255.0, dtype=torch.float32))
    torch.testing.assert_close(ds.x_train[0, 2, 3, 0], torch.tensor(first[2048 + 3 * 32] / 255.0, dtype=torch.float32))
    expected = sum((list(batches[f"data_batch_{i}"][b"labels"]) for i in range(1, 6)), [])  # type: ignore[arg-type]
    assert ds.y_train.tolist() == expected
    assert ds.y_test.tolist() == list(batches["test_batch"][b"labels"])  # type: ignore[arg-type]


def test_cifar10_checksum_guards_the_pickles(small_cifar: tuple[Path, dict[str, dict[bytes, object]]]) -> None:
    root, _ = small_cifar
    with open(root / "cifar10" / ARCHIVE, "ab") as f:
        f.write(b"tampered")
    with pytest.raises(DatasetError, match="md5 checksum mismatch"):
        data.load("cifar10", data_dir=root, download=False)


def test_cifar10_missing_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cifar10"
    folder.mkdir()
    _write_archive(folder / ARCHIVE, {"data_batch_1": _batch(1, 2)})
    md5 = hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()
    monkeypatch.setitem(registry.REMOTE, "cifar10", registry.REMOTE["cifar10"].with_file(ARCHIVE, md5))
    with pytest.raises(DatasetError, match="archive lacks .*data_batch_2"):
        data.load("cifar10", data_dir=tmp_path, download=False)


def test_cifar10_refuses_foreign_pickle_globals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cifar10"
    folder.mkdir()
    evil = {f"data_batch_{i}": _batch(i, 1) for i in range(1, 6)}
    evil["test_batch"] = {b"data": Path("x"), b"labels": [0]}  # any class outside numpy is refused
    _write_archive(folder / ARCHIVE, evil)  # type: ignore[arg-type]
    md5 = hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()
    monkeypatch.setitem(registry.REMOTE, "cifar10", registry.REMOTE["cifar10"].with_file(ARCHIVE, md5))
    with pytest.raises(DatasetError, match="unreadable CIFAR batch .*pathlib"):
        data.load("cifar10", data_dir=tmp_path, download=False)
