"""The ``onemap`` command line. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import sys

import typer

from spatial.errors import OnemapError

app = typer.Typer(help="onemap: one map for city operations.", no_args_is_help=True, add_completion=False)


def _register() -> None:
    # Imported here, not at module top, so `onemap --help` stays fast and each group stays optional.
    from api.cli import data, db

    db.register(app)
    data.register(app)
    for optional in ("serve", "keys", "tiles", "raster", "layers", "fuse"):
        try:
            module = __import__(f"api.cli.{optional}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"api.cli.{optional}":
                raise
            continue
        module.register(app)


def main() -> None:
    _register()
    try:
        app(standalone_mode=False)
    except OnemapError as exc:
        typer.secho(f"onemap: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
