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


def deliver(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The department's file.")],
    department: Annotated[str, typer.Option(help="The delivering department, e.g. police.")],
    mapping: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Column mapping (YAML) instead of the default."),
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="EPSG:4547, EPSG:4490, GCJ02, BD09: overrides the file.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="e.g. GBK; detected when omitted.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Sheet, layer or dataset inside the file.")] = None,
    allow_outside_china: Annotated[bool, typer.Option(help="Accept coordinates outside China.")] = False,
    fuse: Annotated[bool, typer.Option(help="Fuse what arrived into the archives right away.")] = True,
    kind: Annotated[
        str | None,
        typer.Option(help="The kind of records, for the default mapping: house_unit for housing's rooms."),
    ] = None,
) -> None:
    """Deliver a department's file: mapped, checked row by row, all or nothing; re-sending it is a no-op."""
    import getpass

    from tqdm import tqdm

    from spatial.ingest import IngestOptions
    from spatial.sources.deliveries import DeliveryRequest, deliver_file
    from spatial.sources.mapping import load_mapping

    request = DeliveryRequest(
        department,
        file.name,
        f"cli:{getpass.getuser()}",
        load_mapping(mapping) if mapping else None,
        IngestOptions(layer=sheet, crs=crs, encoding=encoding, allow_outside_china=allow_outside_china),
        kind,
    )
    with tqdm(unit="row", desc=f"delivering {file.name}", disable=None, leave=False) as bar:

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        with raw_connection(database_url()) as conn:
            report = deliver_file(conn, file, request, progress)
    for rejection in report["rejections"][:20]:
        typer.secho(
            f"row {rejection['row']} rejected: {rejection['reason']}", fg=typer.colors.YELLOW, err=True
        )
    summary = {
        k: report[k] for k in ("id", "department", "rows", "accepted", "rejected", "duplicate", "flags")
    }
    typer.echo(json.dumps(summary, ensure_ascii=False))


def pull(
    item: Annotated[int | None, typer.Option(help="Only this catalogue item (its id in GET /sources).")] = None,
    force: Annotated[bool, typer.Option(help="Also items still waiting after a failure.")] = False,
) -> None:
    """Pull the catalogue's sources (databases, OGC API collections) above their high-water marks, now."""
    from spatial.sources.pull import pull_sources

    with raw_connection(database_url()) as conn:
        outcome = pull_sources(conn, item, force)
    for failure in outcome["failed"]:
        typer.secho(f"item {failure['item']}: {failure['error']}", fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps(outcome, ensure_ascii=False))
    if outcome["failed"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    sources = typer.Typer(help="The source catalogue and department deliveries.", no_args_is_help=True)
    catalog = typer.Typer(help="The source catalogue (three lists).", no_args_is_help=True)
    catalog.command("import")(catalog_import)
    sources.add_typer(catalog, name="catalog")
    sources.command()(deliver)
    sources.command()(pull)
    app.add_typer(sources, name="sources")
