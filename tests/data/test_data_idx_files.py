"""MNIST / Fashion-MNIST read from the canonical files, checksums and corrupt files."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from advlab import data
from advlab.data import registry
from advlab.data.errors import DatasetError
from advlab.data.idx import parse_idx, read_idx_gz

LABELS = "t10k-labels-idx1-ubyte.gz"
MNIST_FILES = registry.INFOS["mnist"].files


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_full_mnist_test_split(shared_data_dir: Path) -> None:
    ds = data.load("mnist", data_dir=shared_data_dir, limit_train=0, quiet=True)
    assert ds.x_test.shape == (10000, 1, 28, 28) and ds.x_test.dtype == torch.float32
    assert ds.x_train.shape == (0, 1, 28, 28)
    assert float(ds.x_test.min()) == 0.0 and float(ds.x_test.max()) == 1.0
    counts = torch.bincount(ds.y_test, minlength=10)
    assert int(counts.sum()) == 10000
    # well-known class sizes of the MNIST test set
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.y_test[:5].tolist() == [7, 2, 1, 0, 4]


def test_fashion_mnist_limits_and_classes(shared_data_dir: Path) -> None:
    ds = data.load("fashion-mnist", data_dir=shared_data_dir, classes=["Sneaker", "Bag"], limit_train=50, limit_test=20)
    assert ds.class_names == ("Sneaker", "Bag")
    assert ds.x_train.shape == (50, 1, 28, 28) and ds.x_test.shape == (20, 1, 28, 28)
    assert set(ds.y_train.tolist()) <= {0, 1}
    assert bool(ds.bounds.contains(ds.x_train).all())


def test_env_var_points_at_local_copy(shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVLAB_DATA", str(shared_data_dir))
    assert data.fetch("mnist", quiet=True) == shared_data_dir / "mnist"


def test_wrong_checksum_names_file_and_md5s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        (folder / name).write_bytes(b"not the canonical file")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: md5 checksum mismatch: expected f68b3c2d"):
        data.load("mnist", data_dir=tmp_path, download=False)
    try:
        data.load("mnist", data_dir=tmp_path, download=False)
    except DatasetError as exc:
        assert hashlib.md5(b"not the canonical file").hexdigest() in str(exc)
        assert "delete it and fetch it again" in str(exc)


def _copy_with_truncated_labels(shared: Path, tmp_path: Path, keep: int) -> Path:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        if name != LABELS:
            (folder / name).symlink_to(shared / "mnist" / name)
    (folder / LABELS).write_bytes((shared / "mnist" / LABELS).read_bytes()[:keep])
    return folder


def test_truncated_gzip_is_a_clear_error(
    shared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copy_with_truncated_labels(shared_data_dir, tmp_path, keep=2000)
    # make the checksum pass so that the reader itself has to notice
    monkeypatch.setitem(registry.REMOTE, "mnist", registry.REMOTE["mnist"].with_file(LABELS, _md5(folder / LABELS)))
    with pytest.raises(DatasetError, match=rf"{LABELS}: not a complete gzip file"):
        data.load("mnist", data_dir=tmp_path, download=False)


def test_corrupt_gzip_and_truncated_idx(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(DatasetError, match="not a complete gzip file"):
        read_idx_gz(bad, ndim=1)
    header = bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big")
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(header + bytes(60)))
    with pytest.raises(DatasetError, match=r"IDX data truncated: dimensions \(100,\) need 108 bytes, found 68"):
        read_idx_gz(short, ndim=1)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x00\x00", "no header"),
        (bytes([0, 0, 0x0D, 1]) + bytes(4), "not an unsigned-byte IDX"),
        (bytes([0, 0, 8, 3]) + bytes(12), "expected an IDX array with 1 dimensions, found 3"),
        (bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes(3), "trailing bytes"),
    ],
)
def test_parse_idx_rejects_malformed(raw: bytes, match: str) -> None:
    with pytest.raises(DatasetError, match=match):
        parse_idx(raw, ndim=1)


def test_parse_idx_roundtrip() -> None:
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in arr.shape) + arr.tobytes()
    np.testing.assert_array_equal(parse_idx(raw, ndim=3), arr)


def test_verification_is_cached_in_a_stamp(shared_data_dir: Path, tmp_path: Path) -> None:
    from advlab.data import checksum

    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        shutil.copy(shared_data_dir / "mnist" / name, folder / name)
    data.fetch("mnist", data_dir=tmp_path, quiet=True)
    assert checksum.stamp_path().is_file()
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # nothing written beside the data
    checksum._memo.clear()
    calls: list[Path] = []
    real = checksum.md5_of

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checksum, "md5_of", counting)
        data.fetch("mnist", data_dir=tmp_path, quiet=True)
        assert calls == []  # served by the stamp
        # a changed file (new size/mtime) is hashed again and rejected
        with open(folder / LABELS, "ab") as f:
            f.write(b"x")
        with pytest.raises(DatasetError, match="md5 checksum mismatch"):
            data.fetch("mnist", data_dir=tmp_path, quiet=True)
        assert [p.name for p in calls] == [LABELS]


def test_the_data_folder_is_never_written(shared_data_dir: Path) -> None:
    before = sorted(p.name for p in (shared_data_dir / "mnist").iterdir())
    data.fetch("mnist", data_dir=shared_data_dir, quiet=True)
    assert sorted(p.name for p in (shared_data_dir / "mnist").iterdir()) == before


def test_a_stamp_cannot_be_forged_with_same_size_and_mtime(shared_data_dir: Path, tmp_path: Path) -> None:
    import os

    from advlab.data import checksum

    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        shutil.copy(shared_data_dir / "mnist" / name, folder / name)
    data.fetch("mnist", data_dir=tmp_path, quiet=True)
    target = folder / LABELS
    st = target.stat()
    raw = bytearray(target.read_bytes())
    raw[-5] ^= 0xFF  # other bytes, same size
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime too
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    checksum._memo.clear()  # as in a new process
    with pytest.raises(DatasetError, match="md5 checksum mismatch"):
        data.fetch("mnist", data_dir=tmp_path, quiet=True)


def test_an_unreadable_file_is_a_clear_error(shared_data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        shutil.copy(shared_data_dir / "mnist" / name, folder / name)
    (folder / LABELS).unlink()
    (folder / LABELS).mkdir()  # present, but not a readable file
    with pytest.raises(DatasetError, match="cannot read|missing"):
        data.load("mnist", data_dir=tmp_path, download=False, quiet=True)
