"""Vector tiles made in PostGIS: one ``ST_AsMVT`` statement per layer and tile, composed from static SQL.

Per-zoom generalisation keeps low-zoom tiles small: polygons are simplified to the tile's pixel size and those
smaller than a fraction of a pixel are dropped; polygon layers with a grid column become per-grid statistics
below ``aggregate_below_zoom``; every layer is capped at ``max_features`` per tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql

from layers.access import Principal
from layers.catalog import Layer
from layers.query.columns import known_columns, quote
from tiles.query import TileQuery
from tiles.selection import Selection, numeric_fields, property_columns, visible_rows
from tiles.settings import TileSettings, get_tile_settings
from tiles.sql import read_sql
from tiles.tms import TileAddress, srid_of

COLUMN_SRID = 4326
LOW_ZOOM = 15  # below this, lines and polygons are simplified before ST_AsMVTGeom snaps them


@dataclass(frozen=True)
class Generalisation:
    aggregate_to_grids: bool
    simplify_tolerance: float | None  # degrees
    min_size: float | None  # degrees; polygons with a smaller bbox (width + height) are dropped


def generalisation_for(
    layer: Layer, geometry_type: str, address: TileAddress, settings: TileSettings
) -> Generalisation:
    west, _, east, _ = address.geographic_bounds()
    unit = (east - west) / settings.extent  # one MVT grid step, in degrees of longitude
    pixel = (east - west) / 256
    areal = "POLYGON" in geometry_type or "LINE" in geometry_type
    polygonal = "POLYGON" in geometry_type
    aggregate = (
        polygonal
        and layer.grid_column is not None
        and layer.source != "admin_area"
        and address.z < settings.aggregate_below_zoom
    )
    return Generalisation(
        aggregate_to_grids=aggregate,
        simplify_tolerance=unit if areal and address.z < LOW_ZOOM else None,
        min_size=pixel * settings.min_feature_pixels if polygonal else None,
    )


def _shape(geometry: sql.Composable, plan: Generalisation, address: TileAddress) -> sql.Composable:
    shape = geometry
    if plan.simplify_tolerance:
        shape = sql.SQL("ST_Simplify({}, {}, true)").format(shape, sql.Literal(plan.simplify_tolerance))
    srid = srid_of(address.tms)
    if srid != COLUMN_SRID:
        shape = sql.SQL("ST_Transform({}, {})").format(shape, sql.Literal(srid))
    return shape


def _tile_params(layer: Layer, address: TileAddress, settings: TileSettings) -> dict[str, Any]:
    xmin, ymin, xmax, ymax = address.xy_bounds()
    return {
        "tile_xmin": xmin,
        "tile_ymin": ymin,
        "tile_xmax": xmax,
        "tile_ymax": ymax,
        "tile_srid": srid_of(address.tms),
        "tile_extent": settings.extent,
        "tile_buffer": settings.buffer,
        "tile_max_features": settings.max_features,
        "tile_layer": layer.id,
    }


def _envelope(selection: Selection, address: TileAddress, settings: TileSettings) -> sql.Composable:
    """The tile plus its buffer as a lon/lat box: compared by ``&&`` with the column, it uses the index."""
    west, south, east, north = address.geographic_bounds(margin=settings.buffer / settings.extent)
    add = selection.params.add
    return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
        add(west, "float8"),
        add(south, "float8"),
        add(east, "float8"),
        add(north, "float8"),
        sql.Literal(COLUMN_SRID),
    )


def feature_statement(
    layer: Layer,
    who: Principal,
    query: TileQuery,
    address: TileAddress,
    plan: Generalisation,
    settings: TileSettings,
) -> tuple[sql.Composed, dict[str, Any]]:
    # The tile plus its buffer as a lon/lat box: compared by && with the column, it uses the index.
    box = address.geographic_bounds(margin=settings.buffer / settings.extent)
    selection = visible_rows(layer, who, query, index_box=box)
    geometry = quote(layer.geometry_column)
    extra: list[sql.Composable] = []
    if plan.min_size:
        extra.append(
            sql.SQL("(ST_XMax({0}) - ST_XMin({0})) + (ST_YMax({0}) - ST_YMin({0})) >= {1}").format(
                geometry, selection.params.add(plan.min_size, "float8")
            )
        )
    columns = property_columns(layer, who, detail=address.z >= settings.detail_zoom)
    id_name = sql.SQL("")
    if known_columns(layer)[layer.id_column].type == "integer":
        columns.insert(0, sql.SQL("{}::int8 AS mvt_id").format(quote(layer.id_column)))
        id_name = sql.SQL(", 'mvt_id'")
    statement = sql.SQL(read_sql("layer_tile.sql")).format(
        shape=_shape(geometry, plan, address),
        rows=selection.from_where(*extra),
        columns=sql.SQL("").join(sql.SQL(", {}").format(c) for c in columns),
        id_name=id_name,
    )
    return statement, {**selection.params.values, **_tile_params(layer, address, settings)}


def grid_statistics_statement(
    layer: Layer,
    who: Principal,
    query: TileQuery,
    address: TileAddress,
    plan: Generalisation,
    settings: TileSettings,
) -> tuple[sql.Composed, dict[str, Any]]:
    assert layer.grid_column is not None
    selection = visible_rows(layer, who, query)
    grid = quote(layer.grid_column)
    touching = sql.SQL(
        "{} IN (SELECT code FROM onemap.admin_area WHERE level = 'grid' AND geom && {})"
    ).format(grid, _envelope(selection, address, settings))
    averages = sql.SQL("").join(
        sql.SQL(", round(avg({})::numeric, 2)::float8 AS {}").format(quote(name), quote(f"{name}_mean"))
        for name in numeric_fields(layer, who)
    )
    statement = sql.SQL(read_sql("grid_statistics_tile.sql")).format(
        grid=grid,
        averages=averages,
        rows=selection.from_where(touching),
        shape=_shape(sql.SQL("area.geom"), plan, address),
    )
    return statement, {**selection.params.values, **_tile_params(layer, address, settings)}


_geometry_types: dict[tuple[str, str], str] = {}


async def geometry_type(conn: AsyncConnection[Any], layer: Layer) -> str:
    key = (layer.source, layer.geometry_column)
    if key not in _geometry_types:
        cursor = await conn.execute(
            read_sql("geometry_type.sql"), {"table": layer.source, "column": layer.geometry_column}
        )
        row = await cursor.fetchone()
        found = (row["type"] if isinstance(row, dict) else row[0]) if row else "GEOMETRY"
        _geometry_types[key] = str(found).upper()
    return _geometry_types[key]


async def render_layer(
    conn: AsyncConnection[Any],
    layer: Layer,
    who: Principal,
    query: TileQuery,
    address: TileAddress,
    settings: TileSettings | None = None,
) -> bytes:
    settings = settings or get_tile_settings()
    plan = generalisation_for(layer, await geometry_type(conn, layer), address, settings)
    build = grid_statistics_statement if plan.aggregate_to_grids else feature_statement
    statement, params = build(layer, who, query, address, plan, settings)
    cursor = await conn.execute(statement, params, prepare=False)
    row = await cursor.fetchone()
    tile = (row["tile"] if isinstance(row, dict) else row[0]) if row else None
    return bytes(tile or b"")


async def render_tile(
    conn: AsyncConnection[Any], layers: list[Layer], who: Principal, query: TileQuery, address: TileAddress
) -> bytes:
    """A multi-layer tile: MVT layers are independent protobuf messages, so their bytes concatenate."""
    parts = [
        await render_layer(conn, layer, who, query, address)
        for layer in layers
        if layer.min_zoom <= address.z <= layer.max_zoom
    ]
    return b"".join(parts)
