"""Downloads through a fake ``urlopen``: success, mirror fallback, bad bytes and offline."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request

import pytest

from advlab import data
from advlab.data import download, registry
from advlab.data.errors import DatasetError


class _Response(io.BytesIO):
    def __init__(self, payload: bytes) -> None:
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


def _serve(files: dict[str, bytes], bad_hosts: tuple[str, ...] = ()) -> tuple[Callable[..., _Response], list[str]]:
    """A urlopen stand-in serving ``files`` by name; hosts in ``bad_hosts`` are unreachable."""
    seen: list[str] = []

    def fake(request: Request | str, timeout: float | None = None) -> _Response:
        url = request.full_url if isinstance(request, Request) else request
        seen.append(url)
        if any(host in url for host in bad_hosts):
            raise URLError("Name or service not known")
        return _Response(files[url.rsplit("/", 1)[-1]])

    return fake, seen


def _offline(request: Request | str, timeout: float | None = None) -> _Response:
    raise URLError("[Errno -3] Temporary failure in name resolution")


def _all_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_download_verifies_and_moves_into_place(
    shared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {name: (shared_data_dir / "mnist" / name).read_bytes() for name in registry.INFOS["mnist"].files}
    fake, seen = _serve(files, bad_hosts=("ossci-datasets",))  # first mirror down: falls back to the second
    monkeypatch.setattr(download, "urlopen", fake)
    folder = data.fetch("mnist", data_dir=tmp_path, quiet=True)
    assert folder == tmp_path / "mnist"
    for name, payload in files.items():
        assert (folder / name).read_bytes() == payload
    assert not list(folder.glob("*.part")) and not list(folder.glob(".*.part"))
    assert len(seen) == 8 and all(u.startswith("https://") for u in seen)
    assert capsys.readouterr().out == ""
    ds = data.load("mnist", data_dir=tmp_path, limit_train=3, limit_test=3, download=False)
    assert ds.y_test.tolist() == [7, 2, 1]


def test_only_missing_files_are_downloaded(shared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    names = registry.INFOS["mnist"].files
    for name in names[:3]:
        (folder / name).symlink_to(shared_data_dir / "mnist" / name)
    fake, seen = _serve({names[3]: (shared_data_dir / "mnist" / names[3]).read_bytes()})
    monkeypatch.setattr(download, "urlopen", fake)
    data.fetch("mnist", data_dir=tmp_path, quiet=True)
    assert [u.rsplit("/", 1)[-1] for u in seen] == [names[3]]


def test_wrong_bytes_from_every_mirror_leave_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = registry.INFOS["mnist"].files
    fake, seen = _serve({n: b"an html error page" for n in names})
    monkeypatch.setattr(download, "urlopen", fake)
    with pytest.raises(DatasetError, match="md5 checksum mismatch: expected f68b3c2d") as err:
        data.load("mnist", data_dir=tmp_path, quiet=True)
    assert "ossci-datasets" in str(err.value) and "cvdf-datasets" in str(err.value)
    assert len(seen) == 2  # both mirrors tried for the first file, then it gives up
    assert _all_files(tmp_path) == []


def test_offline_without_local_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "urlopen", _offline)
    with pytest.raises(DatasetError) as err:
        data.load("fashion-mnist", data_dir=tmp_path, quiet=True)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and str(tmp_path / "fashion-mnist") in message
    assert "Temporary failure in name resolution" in message and "ADVLAB_DATA" in message
    assert list(tmp_path.iterdir()) == []  # not even the empty dataset folder stays


def test_no_download_reports_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "urlopen", _offline)
    with pytest.raises(DatasetError, match=r"missing file\(s\) cifar-10-python\.tar\.gz in .*downloads are off"):
        data.load("cifar10", data_dir=tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_removes_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class _Dying(_Response):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell():
                raise KeyboardInterrupt
            return super().read(10)

    monkeypatch.setattr(download, "urlopen", lambda request, timeout=None: _Dying(b"x" * 100))
    with pytest.raises(KeyboardInterrupt):
        data.fetch("mnist", data_dir=tmp_path, quiet=True)
    assert _all_files(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_download_stopped_by_sigterm_removes_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    class _Terminated(_Response):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell():
                os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` or a stopped container would
            return super().read(10)

    monkeypatch.setattr(download, "urlopen", lambda request, timeout=None: _Terminated(b"x" * 100))
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stop:
        data.fetch("mnist", data_dir=tmp_path, quiet=True)
    assert stop.value.code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []  # no .part file, not even the dataset folder
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_progress_bar_goes_to_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    payload = b"y" * 3000
    monkeypatch.setattr(download, "urlopen", lambda request, timeout=None: _Response(payload))
    dest = tmp_path / "file.bin"
    download.download(["https://example.org/file.bin"], dest, hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload
    out = capsys.readouterr()
    assert out.out == "" and "file.bin" in out.err
