"""``advlab explore RUN [RUN …]``: the decision-region explorer in the browser, on 127.0.0.1 only."""

from __future__ import annotations

import click

from advlab.cli.options import data_dir_option, friendly_errors, quiet_option


@click.command("explore")
@click.argument("run_paths", metavar="RUN [RUN …]", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--data", "data_name", default=None, help="Dataset of the test images (default: the first run's).")
@click.option("--max-resolution", type=click.IntRange(16, 1024), default=384, show_default=True, help="Largest slice resolution a request may ask for.")
@data_dir_option
@quiet_option
@friendly_errors
def explore(run_paths: tuple[str, ...], port: int, data_name: str | None, max_resolution: int, data_dir: str | None, quiet: bool) -> None:
    """Explore slices of the input space of one or more trained RUNs in the browser (needs advlab[explore])."""
    from advlab.explore.server import check_installed, load_session, serve

    try:
        check_installed()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    session = load_session(run_paths, data_name, data_dir, quiet=quiet, max_resolution=max_resolution)
    names = ", ".join(r.name for r in session.runs)
    click.echo(f"advlab explore: {names} on {session.data.name} ({len(session.data.x_test)} test images); Ctrl-C stops")
    serve(session, port, announce=lambda url: click.echo(f"open {url}", nl=True))
