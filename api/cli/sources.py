"""``onemap sources ...``: the source catalogue and department deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spatial.database import database_url, raw_connection


def catalog_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The catalogue workbook (.xlsx).")
    ],
) -> None:
    """Import departments' three lists (职能清单, 事项清单, 系统清单) from a workbook; replaces those departments'."""
    from spatial.sources.catalogue import import_workbook

    with raw_connection(database_url()) as conn:
        counts = import_workbook(conn, file)
    typer.echo(json.dumps(counts, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    sources = typer.Typer(help="The source catalogue and department deliveries.", no_args_is_help=True)
    catalog = typer.Typer(help="The source catalogue (three lists).", no_args_is_help=True)
    catalog.command("import")(catalog_import)
    sources.add_typer(catalog, name="catalog")
    app.add_typer(sources, name="sources")
