"""The ``onemap`` command line. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import sys

import typer

from spatial.errors import OnemapError

app = typer.Typer(help="onemap: one map for city operations.", no_args_is_help=True, add_completion=False)


# Each module registers its commands; imported lazily so `onemap --help` stays fast.
COMMAND_MODULES = ("db", "data", "serve", "fuse", "tiles", "raster", "keys", "layers", "analysis", "jobs", "door",
                   "kpis", "sources")


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"api.cli.{name}").register(app)


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
