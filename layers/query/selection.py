"""Which rows of a layer a request selects, as one FROM + WHERE: the builder features and tiles share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from layers.access import Principal
from layers.catalog import Layer
from layers.query.columns import SQL_TYPES, coerce, column_expression, quote, require_field
from layers.query.cql import CqlCompiler
from layers.query.geometry import DEFAULT_CRS, BBox, bbox_condition
from layers.query.params import Params
from layers.query.source import layer_source
from layers.query.temporal import TimeInterval
from spatial.crs import CrsRef
from spatial.errors import Forbidden, InvalidInput
from spatial.schema import SRID


@dataclass(frozen=True)
class Filters:
    """What a request asks for, already parsed (see ``geometry.parse_bbox``, ``temporal.parse_datetime``,
    ``cql.parse_filter``)."""

    bbox: BBox | None = None
    datetime: TimeInterval | None = None
    cql2: dict[str, Any] | None = None  # a CQL2 JSON tree
    filter_crs: CrsRef = DEFAULT_CRS
    properties: Mapping[str, Any] = field(default_factory=dict)  # property = value, all must hold

    @property
    def is_empty(self) -> bool:
        return self.bbox is None and self.datetime is None and self.cql2 is None and not self.properties


@dataclass(frozen=True)
class Selection:
    """``SELECT ... FROM {source} WHERE {where}``, executed with ``params.values``."""

    layer: Layer
    principal: Principal
    source: sql.Composable
    where: sql.Composable
    params: Params
    column_srid: int = SRID

    def column(self, name: str) -> sql.Composable:
        """A property as this principal may see it (masked when personal)."""
        return column_expression(self.layer, name, self.principal)

    @property
    def geometry(self) -> sql.Identifier:
        return quote(self.layer.geometry_column)

    @property
    def id(self) -> sql.Identifier:
        return quote(self.layer.id_column)


def row_filter(layer: Layer, who: Principal, params: Params) -> sql.Composable | None:
    """Scoped roles (grid workers, community and street operators) see only their grids' rows of layers that
    record a grid."""
    if who.scoped and layer.grid_column:
        return sql.SQL("{} = ANY({})").format(quote(layer.grid_column), params.add(list(who.grids), "text[]"))
    return None


def select_features(
    layer: Layer,
    who: Principal,
    filters: Filters | None = None,
    *,
    params: Params | None = None,
    column_srid: int = SRID,
    index_box: tuple[float, float, float, float] | None = None,
) -> Selection:
    """The rows of ``layer`` that ``who`` may see and ``filters`` selects.

    ``index_box`` (west, south, east, north in the column SRID) keeps only rows whose geometry's bounding box
    overlaps it: the tile server's envelope test, which the GiST index answers.

    Raises Forbidden when ``who`` may not read the layer, InvalidInput for a filter naming unknown
    properties or holding values of the wrong type.
    """
    if not layer.can_read(who):
        raise Forbidden(f"your key may not read layer {layer.id!r}")
    filters = filters or Filters()
    params = params or Params()
    conditions: list[sql.Composable] = []
    granted = row_filter(layer, who, params)
    if granted is not None:
        conditions.append(granted)
    when = filters.datetime
    if when is not None and not layer.versioned:
        conditions.append(_time_condition(layer, who, when, params))
    geometry = quote(layer.geometry_column)
    spatial: list[sql.Composable] = []
    if filters.bbox is not None:
        spatial.append(bbox_condition(geometry, filters.bbox, params, column_srid))
    if index_box is not None:
        corners = [params.add(value, "float8") for value in index_box]
        spatial.append(
            sql.SQL("{} && ST_MakeEnvelope({}, {}, {}, {}, {})").format(
                geometry, *corners, sql.Literal(column_srid)
            )
        )
    inside = sql.SQL(" AND ").join(spatial) if spatial else None
    source = layer_source(layer, params, when if layer.versioned else None, inside)
    conditions += spatial
    for name, value in sorted(filters.properties.items()):
        field_ = require_field(layer, name)
        conditions.append(
            sql.SQL("{} = {}").format(
                column_expression(layer, name, who), params.add(coerce(field_, value), SQL_TYPES[field_.type])
            )
        )
    if filters.cql2 is not None:
        conditions.append(
            CqlCompiler(layer, who, params, filters.filter_crs, column_srid).compile(filters.cql2)
        )
    where = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")
    return Selection(layer, who, source, where, params, column_srid)


def _time_condition(layer: Layer, who: Principal, when: TimeInterval, params: Params) -> sql.Composable:
    if not layer.time_field:
        raise InvalidInput(f"collection {layer.id!r} has no time property, so datetime cannot be used on it")
    column = column_expression(layer, layer.time_field, who)
    parts = []
    if when.start is not None:
        parts.append(sql.SQL("{} >= {}").format(column, params.add(when.start, "timestamptz")))
    if when.end is not None:
        parts.append(sql.SQL("{} <= {}").format(column, params.add(when.end, "timestamptz")))
    return sql.SQL(" AND ").join(parts)
