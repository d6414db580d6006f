"""OGC API Features Part 4 writes as composed SQL: insert, replace, update and delete one feature.

Property names are checked against the layer's fields, values coerced to their types and bound; the geometry
is GeoJSON in CRS84 (or the request's ``Content-Crs``), made multi when the column is. The caller runs
these in one transaction after ``actor_setting`` so the history trigger records who changed the row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
import shapely.errors
import shapely.geometry
import shapely.ops
from psycopg import sql

from layers.catalog import Layer
from layers.query.columns import SQL_TYPES, coerce, quote, require_field
from layers.query.geometry import DEFAULT_CRS, geometry_literal
from layers.query.params import Params
from layers.query.source import relation
from spatial.crs import CANONICAL_EPSG, CrsRef, transform_geometry
from spatial.errors import InvalidInput
from spatial.ingest.geometry import first_outside_china

ACTOR_SETTING = sql.SQL("SELECT set_config('onemap.actor', {}, true)")
GEOMETRY_TYPE = (
    "SELECT type FROM geometry_columns WHERE f_table_schema = 'onemap' AND f_table_name = %(t)s "
    "AND f_geometry_column = %(c)s"
)


def actor_setting(actor: str, params: Params) -> sql.Composed:
    """SET LOCAL onemap.actor, with the actor as a bound value."""
    return ACTOR_SETTING.format(params.add(actor, "text"))


def feature_parts(body: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(properties, geometry) of a GeoJSON Feature in a request body; InvalidInput says what is wrong."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise InvalidInput(
            'the body must be a GeoJSON Feature: {"type": "Feature", "geometry": ..., "properties": {...}}'
        )
    properties = body.get("properties") or {}
    geometry = body.get("geometry")
    if not isinstance(properties, dict):
        raise InvalidInput("the feature's properties must be an object")
    if geometry is not None and (not isinstance(geometry, dict) or "type" not in geometry):
        raise InvalidInput("the feature's geometry must be a GeoJSON geometry object")
    return properties, geometry


def _values(layer: Layer, properties: Mapping[str, Any], params: Params) -> list[tuple[str, sql.Composable]]:
    pairs = []
    for name, value in properties.items():
        if name == layer.id_column:
            raise InvalidInput(f"{name!r} is the feature id and cannot be set as a property")
        field = layer.field(name)
        if field is None:
            require_field(layer, name)  # raises with the list of fields
            raise InvalidInput(f"property {name!r} of collection {layer.id!r} cannot be edited")
        if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
            raise InvalidInput(
                f"property {name!r} is {len(value):,} characters long, at most {MAX_TEXT_LENGTH:,}: attach long "
                "documents as files, not as feature properties"
            )
        bound = None if value is None else coerce(field, value)
        pairs.append((name, params.add(bound, SQL_TYPES[field.type])))
    return pairs


MAX_TEXT_LENGTH = 10_000  # every text property is drawn into tiles and pages: keep them short
MAX_COORDINATE_DEPTH = 4  # a MultiPolygon's coordinates nest four arrays deep


def _numbers_only(coordinates: Any, depth: int = 0) -> None:
    """Every coordinate a JSON number: "NaN" strings, booleans and nulls slip through PostGIS's GeoJSON reader
    and then poison every page, tile and change-log read of the layer."""
    if isinstance(coordinates, list) and depth <= MAX_COORDINATE_DEPTH:
        for item in coordinates:
            _numbers_only(item, depth + 1)
        return
    if isinstance(coordinates, bool) or not isinstance(coordinates, (int, float)) or not math.isfinite(coordinates):
        raise InvalidInput(
            f"geometry coordinates must be finite numbers, got {str(coordinates)[:40]!r}: send numbers such as "
            "[114.25, 22.72]"
        )


def checked_geometry(geometry: dict[str, Any], crs: CrsRef) -> None:
    """Refuse what uploads refuse: coordinates that are not finite numbers, or that lie outside China."""
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            checked_geometry(part, crs)
        return
    _numbers_only(geometry.get("coordinates"))
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
        raise InvalidInput(f"the geometry is not valid GeoJSON of type {geometry.get('type')!r}") from None
    if crs.axis_order_lat_first:
        shape = shapely.ops.transform(lambda x, y: (y, x), shape)
    lonlat = transform_geometry(shape, crs, CANONICAL_EPSG) if crs.epsg != CANONICAL_EPSG else shape
    if first_outside_china(np.array([lonlat])) is not None:
        x, y = shapely.get_coordinates(shape)[0]
        raise InvalidInput(
            f"the geometry lies outside China ({x:.6f}, {y:.6f} read as {crs.code}): send lon/lat in CRS84, "
            "or name the CRS of the coordinates in the Content-Crs header (e.g. EPSG:4547 for Gauss-Kruger)"
        )


def _geometry(geometry: dict[str, Any], crs: CrsRef, multi: bool, params: Params) -> sql.Composable:
    checked_geometry(geometry, crs)
    literal = geometry_literal(geometry, crs, params)
    return sql.SQL("ST_Multi({})").format(literal) if multi else literal


def insert_feature(
    layer: Layer,
    properties: Mapping[str, Any],
    geometry: dict[str, Any] | None,
    params: Params,
    *,
    multi: bool,
    feature_id: Any = None,
    crs: CrsRef = DEFAULT_CRS,
) -> sql.Composed:
    if geometry is None:
        raise InvalidInput("a new feature needs a geometry")
    pairs = _values(layer, properties, params)
    pairs += [(column, params.add(value)) for column, value in sorted(layer.source_filter.items())]
    pairs.append((layer.geometry_column, _geometry(geometry, crs, multi, params)))
    if feature_id is not None:
        id_field = require_field(layer, layer.id_column)
        pairs.append((layer.id_column, params.add(coerce(id_field, feature_id), SQL_TYPES[id_field.type])))
    return sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {} AS id").format(
        relation(layer.source),
        sql.SQL(", ").join(quote(n) for n, _ in pairs),
        sql.SQL(", ").join(v for _, v in pairs),
        quote(layer.id_column),
    )


def update_feature(
    layer: Layer,
    feature_id: Any,
    properties: Mapping[str, Any],
    geometry: dict[str, Any] | None,
    params: Params,
    *,
    multi: bool,
    replace: bool,
    crs: CrsRef = DEFAULT_CRS,
) -> sql.Composed:
    """UPDATE one feature; ``replace`` (PUT) sets every field, absent ones to NULL, and needs a geometry."""
    if replace:
        if geometry is None:
            raise InvalidInput("replacing a feature needs its geometry")
        properties = {f.name: properties.get(f.name) for f in layer.fields} | dict(properties)
    pairs = _values(layer, properties, params)
    if geometry is not None:
        pairs.append((layer.geometry_column, _geometry(geometry, crs, multi, params)))
    if not pairs:
        raise InvalidInput("nothing to change: give properties or a geometry")
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(quote(n), v) for n, v in pairs)
    return sql.SQL("UPDATE {} SET {} WHERE {} RETURNING {} AS id").format(
        relation(layer.source), assignments, _identified(layer, feature_id, params), quote(layer.id_column)
    )


def delete_feature(layer: Layer, feature_id: Any, params: Params) -> sql.Composed:
    return sql.SQL("DELETE FROM {} WHERE {} RETURNING {} AS id").format(
        relation(layer.source), _identified(layer, feature_id, params), quote(layer.id_column)
    )


def _identified(layer: Layer, feature_id: Any, params: Params) -> sql.Composable:
    id_field = require_field(layer, layer.id_column)
    try:
        value = coerce(id_field, feature_id)
    except InvalidInput:
        raise InvalidInput(f"feature ids of collection {layer.id!r} are {id_field.type}s") from None
    parts = [sql.SQL("{} = {}").format(quote(layer.id_column), params.add(value, SQL_TYPES[id_field.type]))]
    parts += [
        sql.SQL("{} = {}").format(quote(c), params.add(v)) for c, v in sorted(layer.source_filter.items())
    ]
    return sql.SQL(" AND ").join(parts)

