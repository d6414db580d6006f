"""Geometry in and out of a layer's query: bbox filters, geometry literals and output CRS (OGC API Part 2).

Filters compare against the geometry column in its own SRID (the request's envelope is transformed, not the
column), so the GiST index is used. Axis order follows the CRS: EPSG:4326, 4490 and 4547 are latitude/northing
first on the wire, CRS84 and 3857 are x first; inside PostGIS everything is x first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from layers.query.params import Params
from spatial.crs import CRS84, CrsRef, UnsupportedCrs, parse_crs
from spatial.errors import InvalidInput
from spatial.schema import SRID

DEFAULT_CRS = parse_crs(CRS84)
# CGCS2000 is served as an alias of WGS 84 (DESIGN.md): no transformation between them.
_SAME_AS_STORAGE = {4326, 4490}


def request_crs(value: str | None, parameter: str = "crs") -> CrsRef:
    """A CRS named in a request; pseudo-CRS (GCJ-02, BD-09) are not served by OGC API."""
    if value is None or value == "":
        return DEFAULT_CRS
    try:
        ref = parse_crs(value)
    except UnsupportedCrs as exc:
        raise InvalidInput(f"invalid {parameter}: {exc}") from None
    if ref.is_pseudo:
        raise InvalidInput(
            f"invalid {parameter}: {value!r} has no OGC URI; use CRS84, EPSG:4326, 4490, 4547, 3857"
        )
    return ref


def postgis_srid(ref: CrsRef, column_srid: int = SRID) -> int:
    assert ref.epsg is not None
    return column_srid if ref.epsg in _SAME_AS_STORAGE and column_srid in _SAME_AS_STORAGE else ref.epsg


@dataclass(frozen=True)
class BBox:
    """A bounding box as written in the request: four numbers in the axis order of ``crs``."""

    values: tuple[float, float, float, float]
    crs: CrsRef = DEFAULT_CRS

    @property
    def xy(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) with x = longitude/easting, whatever the CRS's axis order."""
        a, b, c, d = self.values
        return (b, a, d, c) if self.crs.axis_order_lat_first else (a, b, c, d)


def parse_bbox(text: str | Sequence[float], crs: CrsRef = DEFAULT_CRS) -> BBox:
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) == 6:  # 3D boxes: the heights do not constrain 2D footprints
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(
            f"invalid bbox {text!r}: give four numbers minx,miny,maxx,maxy (in the axis order of "
            "bbox-crs; CRS84 is lon,lat)"
        )
    box = BBox((numbers[0], numbers[1], numbers[2], numbers[3]), crs)
    xmin, ymin, xmax, ymax = box.xy
    if ymin > ymax:
        raise InvalidInput(f"invalid bbox {text!r}: the lower corner is north of the upper one")
    if crs.is_geographic and (abs(ymin) > 90 or abs(ymax) > 90 or abs(xmin) > 180 or abs(xmax) > 180):
        raise InvalidInput(f"invalid bbox {text!r}: latitudes lie within ±90 and longitudes within ±180")
    return box


def envelope(box: BBox, params: Params, column_srid: int = SRID) -> sql.Composable:
    """The box as a polygon in the column's SRID. Boxes crossing the antimeridian are not supported."""
    xmin, ymin, xmax, ymax = box.xy
    srid = postgis_srid(box.crs, column_srid)
    made = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
        params.add(xmin, "float8"),
        params.add(ymin, "float8"),
        params.add(xmax, "float8"),
        params.add(ymax, "float8"),
        sql.Literal(srid),
    )
    if srid == column_srid:
        return made
    # Densify before transforming so the envelope's edges follow the curvature of the projection.
    return sql.SQL("ST_Transform(ST_Segmentize({}, {}), {})").format(
        made, sql.Literal(abs(xmax - xmin) / 16 or 1.0), sql.Literal(column_srid)
    )


def bbox_condition(
    geometry: sql.Composable, box: BBox, params: Params, column_srid: int = SRID
) -> sql.Composed:
    return sql.SQL("ST_Intersects({}, {})").format(geometry, envelope(box, params, column_srid))


def geometry_literal(value: Any, crs: CrsRef, params: Params, column_srid: int = SRID) -> sql.Composable:
    """A GeoJSON geometry or {"bbox": [...]} from a CQL2 filter, bound as a parameter, in the column SRID."""
    if isinstance(value, dict) and "bbox" in value:
        return envelope(parse_bbox(value["bbox"], crs), params, column_srid)
    if not isinstance(value, dict) or "type" not in value:
        raise InvalidInput(
            "a spatial operator needs a geometry literal, e.g. POINT(114.2 22.7) or "
            "BBOX(114.1,22.6,114.3,22.8)"
        )
    geom = sql.SQL("ST_GeomFromGeoJSON({})").format(params.add(json.dumps(value), "text"))
    if crs.axis_order_lat_first:
        geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
    srid = postgis_srid(crs, column_srid)
    geom = sql.SQL("ST_SetSRID({}, {})").format(geom, sql.Literal(srid))
    if srid != column_srid:
        geom = sql.SQL("ST_Transform({}, {})").format(geom, sql.Literal(column_srid))
    return geom


def output_geometry(geometry: sql.Composable, crs: CrsRef, column_srid: int = SRID) -> sql.Composable:
    """The column as it is served in ``crs``: transformed, and flipped for latitude-first CRS."""
    srid = postgis_srid(crs, column_srid)
    out: sql.Composable = geometry
    if srid != column_srid:
        out = sql.SQL("ST_Transform({}, {})").format(out, sql.Literal(srid))
    if crs.axis_order_lat_first:
        out = sql.SQL("ST_FlipCoordinates({})").format(out)
    return out
