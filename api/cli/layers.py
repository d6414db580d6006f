"""``onemap layer add|list|grant|style|download``: departments' own layers from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from spatial.database import database_url

layer_app = typer.Typer(help="Departments' own layers: upload files, style, grant, download.")


@layer_app.command("add")
def add(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="GeoPackage, .zip shapefile, GeoJSON, KML, FlatGeobuf, CSV or .xlsx",
    ),
    department: str = typer.Option(..., help="The owner department (e.g. water, housing)."),
    id: str | None = typer.Option(None, "--id", help="Layer id (default: from the file name)."),
    title: str | None = typer.Option(None, help="Title (any text; default: the file name)."),
    description: str = typer.Option(""),
    sensitivity: str = typer.Option("internal", help="public, internal or restricted."),
    update_schedule: str | None = typer.Option(None, help="e.g. monthly"),
    lineage: str | None = typer.Option(None, help="Where the data comes from."),
    crs: str | None = typer.Option(None, help="EPSG:xxxx, GCJ02 or BD09 (overrides the file's)."),
    encoding: str | None = typer.Option(
        None, help="Text encoding of a shapefile/CSV (detected when omitted)."
    ),
    layer: str | None = typer.Option(None, help="Layer, sheet or dataset inside the file."),
    x: str | None = typer.Option(None, help="Column of x / longitude (CSV, .xlsx)."),
    y: str | None = typer.Option(None, help="Column of y / latitude (CSV, .xlsx)."),
    address: str | None = typer.Option(None, help="Column of standard addresses to locate rows by building."),
    split_mixed: bool = typer.Option(False, help="One layer per geometry kind when the file mixes them."),
    allow_outside_china: bool = typer.Option(False, help="Accept data outside China."),
) -> None:
    """Upload FILE as a new layer of DEPARTMENT (one transaction: all or nothing), with progress."""
    from tqdm import tqdm

    from layers.access import Principal
    from layers.uploads import UploadRequest, upload_layer
    from spatial.ingest import layer_id_from_filename

    # The options above are named as the request's fields: the CLI and POST /layers ask for the same.
    asked = {k: v for k, v in locals().items() if k in UploadRequest.model_fields and k != "title"}
    request = UploadRequest(id=id or layer_id_from_filename(file.name), title=title or file.stem, **asked)
    who = Principal("admin", actor="cli")
    with tqdm(unit=" features", desc=f"uploading {file.name}") as bar:

        def progress(done: int, total: int | None) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        result = upload_layer(database_url(), file, file.name, request, who, progress)
    report = result.report
    for created, table in zip(result.layers, report.tables, strict=True):
        typer.echo(
            f"layer {created.id}: {table.rows:,} {table.geometry_type.lower()} features in "
            f"onemap.{table.table} (from {report.format}, CRS {report.source_crs}"
            + (f", encoding {report.encoding}" if report.encoding else "")
            + ")"
        )
    if report.repaired:
        typer.echo(f"repaired {report.repaired} invalid geometries (rows {report.repaired_rows[:20]})")
    if report.dropped_empty:
        typer.echo(f"left out {report.dropped_empty} rows without geometry (rows {report.dropped_rows[:20]})")
    if report.unmatched:
        typer.echo(
            f"{report.unmatched} rows matched no building address: "
            + "; ".join(f"row {r['row']}: {r['address']}" for r in report.unmatched_rows[:20])
        )
    for note in report.notes:
        typer.echo(f"note: {note}")


@layer_app.command("list")
def list_layers() -> None:
    """Layers in the catalog, with owner and sensitivity."""
    from layers.catalog import list_layers as catalog_layers
    from spatial.database import engine_for

    with engine_for(database_url()).connect() as conn:
        for lyr in catalog_layers(conn):
            typer.echo(f"{lyr.id:32} {lyr.kind:7} {lyr.owner_department:17} {lyr.sensitivity:10} {lyr.title}")


@layer_app.command("grant")
def grant(
    layer_id: str,
    readers: str | None = typer.Option(None, help="Comma-separated departments that may read."),
    editors: str | None = typer.Option(None, help="Comma-separated departments that may edit."),
) -> None:
    """Grant other departments read or edit access to a layer."""
    from layers.access import Principal
    from layers.catalog import layer_transaction
    from layers.uploads import set_grants

    def split(value: str | None) -> list[str] | None:
        return None if value is None else [v.strip() for v in value.split(",") if v.strip()]

    with layer_transaction(database_url(), layer_id) as (layer, conn):
        updated = set_grants(conn, layer, Principal("admin", actor="cli"), split(readers), split(editors))
    typer.echo(f"{updated.id}: readers {list(updated.readers)}, editors {list(updated.editors)}")


@layer_app.command("style")
def style(
    layer_id: str,
    spec: str = typer.Argument(
        ..., help='e.g. \'{"field": "height", "method": "natural_breaks", "k": 5, "ramp": "YlOrRd"}\''
    ),
) -> None:
    """Classify a field of a layer into a thematic style and print its legend."""
    from layers.catalog import layer_transaction
    from layers.drawing import legend
    from layers.thematic_store import build_style, store_style

    with layer_transaction(database_url(), layer_id) as (layer, conn):
        built = build_style(conn, layer, json.loads(spec))
        store_style(conn, layer, built)
    for item in legend(built.to_dict(), layer.title)["items"]:
        typer.echo(f"{item['color']}  {item['label']}")


@layer_app.command("download")
def download(
    layer_id: str,
    output: Path = typer.Option(..., "-o", help="Output file (.gpkg, .geojson, .csv)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date/time (Beijing time when bare)."),
) -> None:
    """Write a layer (as of a date) to a GeoPackage, GeoJSON or CSV file."""
    import shutil

    from layers.access import Principal
    from layers.catalog import layer_transaction
    from layers.downloads import download as write
    from layers.query.temporal import parse_as_of

    fmt = output.suffix.lower().lstrip(".")
    with layer_transaction(database_url(), layer_id) as (layer, conn):
        result = write(conn, layer, Principal("admin", actor="cli"), fmt, parse_as_of(as_of))
    shutil.move(result.path, output)
    shutil.rmtree(result.path.parent, ignore_errors=True)
    typer.echo(f"{result.rows:,} features -> {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(layer_app, name="layer")
