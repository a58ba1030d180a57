"""One place that turns every failure under a CLI command into a short error, never a traceback.

``AdvlabGroup`` is the ``advlab`` group's class: whatever a sub-command raises (a library
``ValueError``, a full or read-only disk, an allocation failure, a bug) reaches the user as
``Error: …`` and an exit code ≠ 0. ``ADVLAB_DEBUG=1`` shows the traceback instead, for bug reports.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import click

#: RuntimeError messages from torch that mean "not enough memory", not a bug.
_ALLOC_MARKERS = ("DefaultCPUAllocator", "out of memory", "can't allocate memory", "Cannot allocate memory", "not enough memory")


def describe(exc: BaseException) -> str | None:
    """A one-line message for ``exc``, or None for an internal error (a bug) with no user-facing meaning."""
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and any(m in str(exc) for m in _ALLOC_MARKERS)):
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"not enough memory for this work ({detail}); try a smaller --n or --batch-size"
    if isinstance(exc, OSError):
        return _os_message(exc)
    if isinstance(exc, (ValueError, TypeError, FloatingPointError, LookupError)) and str(exc):
        return str(exc)
    return None


def _os_message(exc: OSError) -> str:
    where = f" {exc.filename!s}" if exc.filename is not None else ""
    if exc.filename2 is not None:
        where += f" → {exc.filename2!s}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = {
        errno.ENOSPC: "; free some disk space or choose another --out",
        errno.EACCES: "; choose a folder you may write to (--out)",
        errno.EROFS: "; the file system is read-only, choose another --out",
        errno.ENOENT: "",
    }.get(exc.errno or 0, "")
    return f"cannot access{where}: {reason}{hint}"


class AdvlabGroup(click.Group):
    """A click group whose sub-commands never show a traceback (unless ``ADVLAB_DEBUG=1``)."""

    def invoke(self, ctx: click.Context) -> Any:
        _plain_figure_text()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("ADVLAB_DEBUG"):
                raise
            message = describe(exc)
            if message is None:
                first = str(exc).splitlines()[0] if str(exc) else ""
                message = (f"internal error ({type(exc).__name__}: {first}); "
                           "please report it with the traceback shown by ADVLAB_DEBUG=1")
            raise click.ClickException(message) from exc


def _plain_figure_text() -> None:
    """Labels are data (class names, paths), never TeX: '$' in a class name must not break a figure."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return
    matplotlib.rcParams["text.parse_math"] = False
