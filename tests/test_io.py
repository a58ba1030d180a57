"""Atomic writes: a file appears complete or not at all, and a failed write leaves the old one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from advlab._io import atomic_path, write_bytes, write_json, write_text


def test_write_text_bytes_json(tmp_path: Path) -> None:
    assert write_text(tmp_path / "a.txt", "héllo") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    write_json(tmp_path / "c.json", {"t": torch.tensor([1.5, 2.0]), "a": np.arange(3), "p": Path("x/y"), "n": 1})
    assert json.loads((tmp_path / "c.json").read_text()) == {"t": [1.5, 2.0], "a": [0, 1, 2], "p": "x/y", "n": 1}
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin", "c.json"]


def test_parent_folders_are_created(tmp_path: Path) -> None:
    write_text(tmp_path / "x" / "y" / "z.txt", "ok")
    assert (tmp_path / "x" / "y" / "z.txt").read_text() == "ok"


def test_overwrite_replaces_whole_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "f.txt", "a long first version")
    write_text(path, "short")
    assert path.read_text() == "short"


def test_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_path(path) as tmp:
            assert tmp.parent == tmp_path and tmp != path
            tmp.write_text("half of the new")
            raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_failure_before_the_first_write_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "new.txt"):
            raise RuntimeError("crash")
    assert os.listdir(tmp_path) == []


def test_unserialisable_json_keeps_the_old_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "f.json", {"v": 1})
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        write_json(path, {"v": object()})
    assert json.loads(path.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["f.json"]


def test_failed_rename_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_text(tmp_path / "f.txt", "old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        write_text(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_stale_temporaries_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = tmp_path / f".model.safetensors.{dead.stdout.strip()}.abc123.tmp"  # its writer was killed mid-write
    stale.write_bytes(b"half a file")
    live = tmp_path / f".model.safetensors.{os.getpid()}.zzz.tmp"  # another write of this process, still going
    live.write_bytes(b"in progress")
    write_bytes(tmp_path / "model.safetensors", b"complete")
    assert not stale.exists() and live.exists()
    assert (tmp_path / "model.safetensors").read_bytes() == b"complete"


def test_files_are_written_with_the_users_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"y")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o640
