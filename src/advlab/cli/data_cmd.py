"""``advlab data list | info NAME | fetch NAME``."""

from __future__ import annotations

import click

from advlab.cli.options import data_dir_option, friendly_errors, quiet_option


@click.group("data")
def data() -> None:
    """Datasets: embedded ones ship with advlab; mnist, fashion-mnist and cifar10 are downloaded once."""


@data.command("list")
def list_cmd() -> None:
    """One line per dataset."""
    from advlab.data import list_datasets

    for d in list_datasets():
        click.echo(f"{d.name:<14} {d.kind:<10} {d.description}")


@data.command("info")
@click.argument("name")
@friendly_errors
def info_cmd(name: str) -> None:
    """What a dataset holds."""
    from advlab.data import info

    d = info(name)
    for key, value in vars(d).items():
        click.echo(f"{key:<14} {value}")


@data.command("fetch")
@click.argument("name")
@data_dir_option
@quiet_option
@friendly_errors
def fetch_cmd(name: str, data_dir: str | None, quiet: bool) -> None:
    """Download (or verify a local copy of) a dataset."""
    from advlab.data import fetch

    path = fetch(name, data_dir=data_dir, quiet=quiet)
    click.echo(f"{name}: verified in {path}")
