"""Options shared by several commands, and turning library errors into clean CLI errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars or chatter.")
device_option = click.option("--device", default=None, help="cpu, cuda, cuda:N or auto (default: CUDA if present).")
data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, envvar="ADVLAB_DATA",
    help="Folder with downloaded datasets (default: $ADVLAB_DATA or ~/.cache/advlab/data).",
)
seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show ValueError/TypeError (and a diverged training's FloatingPointError) from the library as a
    one-line CLI error, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, FloatingPointError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def stacked(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator for several, applied as if written one per line above the function, first on top
    (so click lists the options in the order given)."""

    def apply(fn: Any) -> Any:
        for decorate in reversed(decorators):
            fn = decorate(fn)
        return fn

    return apply


#: The tail of every command that loads data and runs on a device: --seed, --device, --data-dir,
#: --quiet, and library errors shown as one-line CLI errors.
run_options = stacked(seed_option, device_option, data_dir_option, quiet_option, friendly_errors)


def parse_list(text: str | None, cast: Callable[[str], Any] = str) -> list[Any] | None:
    if text is None or text == "":
        return None
    try:
        return [cast(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected a comma-separated list, got {text!r}") from exc


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as JSON when possible (numbers, lists), else strings."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def given(**options: Any) -> dict[str, Any]:
    """The options the user actually gave (flags left unset are None and not sent on).

    The CLI edge decides this; registries pass every option they are given, None included.
    """
    return {k: v for k, v in options.items() if v is not None}
