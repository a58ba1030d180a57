"""MD5 verification of dataset files, remembered so repeated loads do not re-hash them.

A verified file is recorded by (size, mtime) in memory and, when the folder is
writable, in a small sidecar ``.advlab-verified.json`` beside it. Replacing or
editing the file changes its size or mtime, so a stale record never vouches
for new bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from advlab.data.errors import DatasetError

STAMP_NAME = ".advlab-verified.json"
_CHUNK = 1 << 20
# (resolved path, size, mtime_ns) -> md5 of files hashed in this process
_memo: dict[tuple[str, int, int], str] = {}


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def _read_stamp(folder: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((folder / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _folder_writable(folder: Path) -> bool:
    # Mode bits rather than os.access: a folder marked read-only (such as a
    # shared, verified copy) stays untouched even when we run as root.
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(folder, os.W_OK)


def _write_stamp(path: Path, md5: str) -> None:
    folder = path.parent
    if not _folder_writable(folder):
        return
    st = path.stat()
    stamp = _read_stamp(folder)
    stamp[path.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "md5": md5}
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{STAMP_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(stamp, f, indent=1, sort_keys=True)
            os.replace(tmp, folder / STAMP_NAME)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # the stamp only saves time; failing to write it is harmless


def remember(path: Path, md5: str) -> None:
    """Record that ``path`` (as it is now) has checksum ``md5``."""
    _memo[_key(path)] = md5
    _write_stamp(path, md5)


def _known_md5(path: Path) -> str | None:
    key = _key(path)
    if key in _memo:
        return _memo[key]
    entry = _read_stamp(path.parent).get(path.name)
    if isinstance(entry, dict) and entry.get("size") == key[1] and entry.get("mtime_ns") == key[2]:
        md5 = entry.get("md5")
        if isinstance(md5, str):
            _memo[key] = md5
            return md5
    return None


def verify(path: Path, expected_md5: str, expected_size: int | None = None) -> None:
    """Raise :class:`DatasetError` unless ``path`` has checksum ``expected_md5``."""
    if _known_md5(path) == expected_md5:
        return
    actual = md5_of(path)
    if actual != expected_md5:
        size = path.stat().st_size
        size_note = f"; size {size} bytes" + (f", expected {expected_size}" if expected_size is not None else "")
        raise DatasetError(
            f"{path}: md5 checksum mismatch: expected {expected_md5}, got {actual}{size_note}. "
            "The file is corrupt, truncated or not the canonical file: delete it and fetch it again "
            "(advlab.data.fetch, or copy the canonical file into that folder)."
        )
    remember(path, actual)
