"""``advlab models``: the zoo."""

from __future__ import annotations

import click


@click.command("models")
def models() -> None:
    """List the model families of the zoo."""
    from advlab.models import families

    for fam in families():
        click.echo(f"{fam.name:<12} {fam.summary}")
