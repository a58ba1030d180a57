"""Make a downloaded dataset's canonical files present and verified in ``<data_dir>/<name>/``."""

from __future__ import annotations

import os
from pathlib import Path

from advlab.data import checksum, registry
from advlab.data.download import download as _download
from advlab.data.errors import DatasetError
from advlab.data.paths import ENV_VAR, data_dir


def _what_to_do(name: str) -> str:
    return (
        f"To fix: connect to the internet and call advlab.data.fetch({name!r}), or put the canonical files "
        f"in a folder <dir>/{name}/ and point {ENV_VAR}=<dir> (or data_dir=<dir> / --data-dir <dir>) at it."
    )


def fetch(name: str, root: str | os.PathLike[str] | None = None, *, download: bool = True, quiet: bool = False) -> Path:
    """Return the folder holding ``name``'s files, downloading missing ones; every file's md5 is verified."""
    source = registry.remote_source(name)
    folder = data_dir(root) / source.name
    missing = [f for f in source.files if not (folder / f.name).is_file()]
    if missing and not download:
        raise DatasetError(
            f"{source.name}: missing file(s) {', '.join(f.name for f in missing)} in {folder} "
            f"(downloads are off).\n{_what_to_do(source.name)}"
        )
    if missing:
        created = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"{source.name}: cannot create {folder}: {exc}.\n{_what_to_do(source.name)}") from exc
        try:
            for f in missing:
                urls = [m + f.name for m in source.mirrors]
                _download(urls, folder / f.name, f.md5, f.size, quiet=quiet)
        except BaseException as exc:
            if created and not any(folder.iterdir()):
                folder.rmdir()  # leave the data folder as we found it
            if not isinstance(exc, DatasetError):
                raise
            still = [f.name for f in missing if not (folder / f.name).exists()]
            raise DatasetError(
                f"{source.name}: missing file(s) {', '.join(still)} in {folder}, and downloading failed "
                f"(offline?).\n{exc}\n{_what_to_do(source.name)}"
            ) from exc
    for f in source.files:
        checksum.verify(folder / f.name, f.md5, f.size)
    return folder
