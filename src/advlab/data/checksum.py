"""MD5 verification of dataset files, remembered so repeated loads do not re-hash them.

A verified file is recorded in memory and in ``verified.json`` in advlab's cache folder
(``$ADVLAB_CACHE``, else ``$XDG_CACHE_HOME/advlab``, else ``~/.cache/advlab``), never in the data
folder itself. A record names the file's device, inode, size, mtime *and ctime*: replacing or
editing the file changes its ctime, which no user can set back (``os.utime`` sets only atime and
mtime), so a record can neither go stale nor be forged by copying other bytes over with the same
size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from advlab.data.errors import DatasetError

STAMP_NAME = "verified.json"
_CHUNK = 1 << 20
# (resolved path, device, inode, size, mtime_ns, ctime_ns) -> md5 of files hashed in this process
_memo: dict[tuple[str, int, int, int, int, int], str] = {}


def cache_dir() -> Path:
    """advlab's cache folder: ``$ADVLAB_CACHE``, else ``$XDG_CACHE_HOME/advlab``, else ``~/.cache/advlab``."""
    env = os.environ.get("ADVLAB_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()) / "advlab"


def stamp_path() -> Path:
    return cache_dir() / STAMP_NAME


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _key(path: Path) -> tuple[str, int, int, int, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _read_stamp() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(stamp_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record(key: tuple[str, int, int, int, int, int], md5: str) -> dict[str, object]:
    return {"device": key[1], "inode": key[2], "size": key[3], "mtime_ns": key[4], "ctime_ns": key[5], "md5": md5}


def _write_stamp(key: tuple[str, int, int, int, int, int], md5: str) -> None:
    target = stamp_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = _read_stamp()
        stamp[key[0]] = _record(key, md5)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{STAMP_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(stamp, f, indent=1, sort_keys=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # the stamp only saves time; failing to write it is harmless


def remember(path: Path, md5: str) -> None:
    """Record that ``path`` (as it is now) has checksum ``md5``."""
    key = _key(path)
    _memo[key] = md5
    _write_stamp(key, md5)


def _known_md5(path: Path) -> str | None:
    key = _key(path)
    if key in _memo:
        return _memo[key]
    entry = _read_stamp().get(key[0])
    if isinstance(entry, dict) and {k: v for k, v in entry.items() if k != "md5"} == {
        k: v for k, v in _record(key, "").items() if k != "md5"
    }:
        md5 = entry.get("md5")
        if isinstance(md5, str):
            _memo[key] = md5
            return md5
    return None


def verify(path: Path, expected_md5: str, expected_size: int | None = None) -> None:
    """Raise :class:`DatasetError` unless ``path`` has checksum ``expected_md5``."""
    try:
        if _known_md5(path) == expected_md5:
            return
        actual = md5_of(path)
    except OSError as exc:
        raise DatasetError(
            f"{path}: cannot read it ({exc.strerror or exc}); check that it is a readable file, or delete it and "
            "fetch it again (advlab.data.fetch)"
        ) from exc
    if actual != expected_md5:
        size = path.stat().st_size
        size_note = f"; size {size} bytes" + (f", expected {expected_size}" if expected_size is not None else "")
        raise DatasetError(
            f"{path}: md5 checksum mismatch: expected {expected_md5}, got {actual}{size_note}. "
            "The file is corrupt, truncated or not the canonical file: delete it and fetch it again "
            "(advlab.data.fetch, or copy the canonical file into that folder)."
        )
    remember(path, actual)
