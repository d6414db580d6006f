"""``onemap raster add FILE``: any GeoTIFF -> a COG in the raster directory, registered as a raster layer
in the catalog (same roles and sensitivity rules as every layer)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

raster_app = typer.Typer(help="Raster layers (Cloud-Optimized GeoTIFFs).")


@raster_app.command()
def add(
    file: Annotated[Path, typer.Argument(help="A GeoTIFF with a CRS.")],
    layer_id: str | None = typer.Option(None, "--id", help="Layer id (default: from the file name)."),
    title: str | None = typer.Option(None, help="Title (default: the id)."),
    owner: str = typer.Option("urban_management", help="Owner department."),
    sensitivity: str = typer.Option("public", help="public, internal or restricted."),
    readers: str = typer.Option("", help="Comma-separated departments granted read access."),
) -> None:
    """Convert FILE to a COG and register it as a raster layer (re-adding replaces it, with a new version)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import insert

    from layers.builtin import layer_row
    from layers.catalog import Layer
    from spatial.database import database_url, engine_for
    from spatial.schema import DEPARTMENTS, SENSITIVITIES
    from spatial.schema import layer as layer_table
    from tiles.errors import InvalidRaster
    from tiles.raster import ensure_cog
    from tiles.settings import raster_dir

    if not file.is_file():
        raise InvalidRaster(f"no such file: {file}")
    name = layer_id or re.sub(r"[^a-z0-9_]+", "_", file.stem.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
        raise typer.BadParameter(
            f"{name!r} is not a layer id: lower-case letters, digits, _; start with a letter"
        )
    if sensitivity not in SENSITIVITIES:
        raise typer.BadParameter(f"use one of {', '.join(SENSITIVITIES)}")
    granted = tuple(d.strip() for d in readers.split(",") if d.strip())
    unknown = [d for d in (owner, *granted) if d not in DEPARTMENTS]
    if unknown:
        raise typer.BadParameter(f"unknown department(s) {', '.join(unknown)}: use {', '.join(DEPARTMENTS)}")
    target = ensure_cog(file, raster_dir() / f"{name}.cog.tif")
    layer = Layer(
        id=name,
        title=title or name,
        owner_department=owner,
        source=str(target),
        kind="raster",
        sensitivity=sensitivity,
        readers=granted,
    )
    row = layer_row(layer)
    statement = insert(layer_table).values(**row)
    updates: dict[str, Any] = {k: statement.excluded[k] for k in row if k not in ("id", "version")}
    updates["version"] = layer_table.c.version + 1  # new bytes, new tiles: cached ones become unreachable
    updates["updated_at"] = sa.func.now()
    with engine_for(database_url()).begin() as conn:
        conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))
    typer.echo(f"raster layer {name!r}: {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(raster_app, name="raster")
