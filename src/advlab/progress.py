"""Progress bars that respect ``quiet`` (rich underneath)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class _Silent:
    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def advance(self, *args: Any, **kwargs: Any) -> None:
        pass

    def remove_task(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def progress(quiet: bool = False, transient: bool = False) -> Iterator[Any]:
    """A rich ``Progress`` (or a silent stand-in); tasks show a text field ``info``."""
    if quiet:
        yield _Silent()
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        transient=transient,
    )
    with bar:
        yield bar


def echo(message: str, quiet: bool = False, markup: bool = False) -> None:
    """Print to stderr unless ``quiet``. Plain text by default: paths and names holding ``[``/``]`` are
    printed as they are, never read as rich markup (pass ``markup=True`` for styled text)."""
    if not quiet:
        Console(stderr=True).print(message, markup=markup, highlight=False)
