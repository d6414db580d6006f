"""Vector tiles made in PostGIS: one ``ST_AsMVT`` statement per layer and tile, composed from static SQL.

Per-zoom generalisation keeps low-zoom tiles small: polygons are simplified to the tile's pixel size and those
smaller than a fraction of a pixel are dropped; polygon layers with a grid column become per-grid statistics
below ``aggregate_below_zoom``; every layer is capped at ``max_features`` per tile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql

from layers.access import Principal
from layers.catalog import Layer
from tiles.query import TileQuery
from tiles.selection import TileRows, mvt_id_column, numeric_fields, property_columns, quote, visible_rows
from tiles.settings import TileSettings, get_tile_settings
from tiles.sql import read_sql
from tiles.tms import TileAddress, srid_of

COLUMN_SRID = 4326
LOW_ZOOM = 15  # below this, lines and polygons are simplified before ST_AsMVTGeom snaps them
LINEAR_TOLERANCE = 0.25  # grid units: how far a vertex may land from its projected place (see tile_frame)


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


@dataclass(frozen=True)
class TileFrame:
    """What ST_AsMVTGeom maps onto the tile's integer grid: the tile's bounds, and whether each geometry must be
    projected to the tile's SRID first."""

    bounds: tuple[float, float, float, float]
    srid: int
    project: bool


def tile_frame(address: TileAddress, settings: TileSettings) -> TileFrame:
    """Lon/lat bounds and no projection when that lands every vertex where projecting would, to within
    ``LINEAR_TOLERANCE`` grid units; otherwise the tile's own bounds, each geometry projected (ST_Transform,
    a fifth of the work of a busy tile).

    ST_AsMVTGeom maps its bounds linearly. Web Mercator's x is linear in longitude; its y is not linear in
    latitude, but across one tile of angular height h at latitude phi, the chord misses the curve by at most
    h * tan(phi) / 8 of the tile height: 0.15 grid units of 4096 at z13 in Shenzhen, less at every higher zoom."""
    srid = srid_of(address.tms)
    if srid == COLUMN_SRID:
        return TileFrame(address.xy_bounds(), srid, project=False)
    west, south, east, north = address.geographic_bounds()
    height = math.radians(north - south)
    steepest = math.radians(max(abs(south), abs(north)))
    if height * math.tan(steepest) / 8 * settings.extent <= LINEAR_TOLERANCE:
        return TileFrame((west, south, east, north), COLUMN_SRID, project=False)
    return TileFrame(address.xy_bounds(), srid, project=True)


def _shape(geometry: sql.Composable, plan: Generalisation, frame: TileFrame) -> sql.Composable:
    shape = geometry
    if plan.simplify_tolerance:
        shape = sql.SQL("ST_Simplify({}, {}, true)").format(shape, sql.Literal(plan.simplify_tolerance))
    if frame.project:
        shape = sql.SQL("ST_Transform({}, {})").format(shape, sql.Literal(frame.srid))
    return shape


def _tile_params(layer: Layer, frame: TileFrame, settings: TileSettings) -> dict[str, Any]:
    xmin, ymin, xmax, ymax = frame.bounds
    return {
        "tile_xmin": xmin,
        "tile_ymin": ymin,
        "tile_xmax": xmax,
        "tile_ymax": ymax,
        "tile_srid": frame.srid,
        "tile_extent": settings.extent,
        "tile_buffer": settings.buffer,
        "tile_max_features": settings.max_features,
        "tile_layer": layer.id,
    }


def _envelope(selection: TileRows, address: TileAddress, settings: TileSettings) -> sql.Composable:
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
    if (mvt_id := mvt_id_column(layer)) is not None:
        columns.insert(0, mvt_id)
        id_name = sql.SQL(", 'mvt_id'")
    frame = tile_frame(address, settings)
    statement = sql.SQL(read_sql("layer_tile.sql")).format(
        shape=_shape(geometry, plan, frame),
        rows=selection.from_where(*extra),
        columns=sql.SQL("").join(sql.SQL(", {}").format(c) for c in columns),
        id_name=id_name,
    )
    return statement, {**selection.params.values, **_tile_params(layer, frame, settings)}


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
    frame = tile_frame(address, settings)
    statement = sql.SQL(read_sql("grid_statistics_tile.sql")).format(
        grid=grid,
        averages=averages,
        rows=selection.from_where(touching),
        shape=_shape(sql.SQL("area.geom"), plan, frame),
    )
    return statement, {**selection.params.values, **_tile_params(layer, frame, settings)}


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
    # Binary results: a bytea in text form is hex, twice the tile's size to encode, send and decode.
    cursor = await conn.execute(statement, params, prepare=False, binary=True)
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
