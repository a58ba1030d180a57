"""Download one file from a list of mirrors, checksum it, and move it into place atomically."""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.error import URLError
from urllib.request import Request, urlopen

from advlab._io import default_file_mode
from advlab.data import checksum
from advlab.data.errors import DatasetError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

_CHUNK = 1 << 20
_TIMEOUT_S = 60
_USER_AGENT = "advlab (+https://github.com/advlab)"


def _progress(total: int | None, description: str, quiet: bool) -> tuple[Progress, TaskID]:
    # imported here: rich costs import time that loading embedded data never needs
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    # stderr keeps stdout clean for results printed by the CLI
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=False,
    )
    task = progress.add_task(description, total=total)
    return progress, task


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While downloading, SIGTERM raises SystemExit (as Ctrl-C raises KeyboardInterrupt), so the
    clean-up below runs and no ``.part`` file is left behind by ``kill`` or a stopped container."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _fetch_one(url: str, dest: Path, md5: str, size: int | None, quiet: bool) -> None:
    with _sigterm_raises():
        _fetch_one_file(url, dest, md5, size, quiet)


def _fetch_one_file(url: str, dest: Path, md5: str, size: int | None, quiet: bool) -> None:
    """Stream ``url`` to a temporary file beside ``dest``; rename it only once its md5 matches."""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.md5(usedforsecurity=False)
        request = Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urlopen(request, timeout=_TIMEOUT_S) as resp:
            length = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
            total = int(length) if length and str(length).isdigit() else size
            progress, task = _progress(total, dest.name, quiet)
            with progress:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    progress.advance(task, len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = h.hexdigest()
        if actual != md5:
            raise DatasetError(f"md5 checksum mismatch: expected {md5}, got {actual} ({tmp.stat().st_size} bytes)")
        os.chmod(tmp, default_file_mode())  # mkstemp made it 0600
        os.replace(tmp, dest)
    except BaseException:
        # never leave a half-written file behind, whatever stopped us (even Ctrl-C)
        tmp.unlink(missing_ok=True)
        raise
    checksum.remember(dest, md5)


def download(urls: Sequence[str], dest: Path, md5: str, size: int | None = None, *, quiet: bool = False) -> None:
    """Fetch ``dest`` from the first of ``urls`` that serves the right bytes.

    Raises :class:`DatasetError` listing each mirror's failure when none does.
    """
    failures: list[str] = []
    for url in urls:
        try:
            _fetch_one(url, dest, md5, size, quiet)
            return
        except (URLError, OSError, DatasetError, ValueError) as exc:  # URLError/HTTPError are OSErrors
            reason = getattr(exc, "reason", None) or exc
            failures.append(f"  {url}: {reason}")
    raise DatasetError(f"could not download {dest.name}:\n" + "\n".join(failures))
