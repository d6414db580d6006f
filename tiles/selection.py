"""The rows of a layer as a caller may see them, for the tile SQL: FROM + WHERE, every value bound.

This is the seam to ``layers.query``, the builder the feature server uses, so that ``datetime``, CQL2
``filter``, the grid worker's row filter and column masks apply to tiles exactly as to features. The tile SQL
only adds its own envelope test (in the column's SRID, so the GiST index is used) and generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from layers.access import Principal
from layers.catalog import Layer
from layers.query import Filters, Params, parse_datetime, parse_filter, select_features
from layers.query.columns import column_expression, known_columns, quote
from tiles.query import TileQuery

__all__ = ["TileRows", "mvt_id_column", "numeric_fields", "property_columns", "quote", "visible_rows"]


@dataclass
class TileRows:
    """The FROM and WHERE of a layer's visible rows (``layers.query.Selection`` after the tile's additions)."""

    relation: sql.Composable  # FROM <relation>
    conditions: list[sql.Composable]  # AND-ed
    params: Params

    def from_where(self, *extra: sql.Composable) -> sql.Composed:
        conditions = [*self.conditions, *extra] or [sql.SQL("true")]
        return sql.SQL("{} WHERE {}").format(self.relation, sql.SQL(" AND ").join(conditions))


def visible_rows(
    layer: Layer, who: Principal, query: TileQuery, index_box: tuple[float, float, float, float] | None = None
) -> TileRows:
    """The shared builder's FROM/WHERE (as-of via <table>_history, CQL2, the grid worker's row filter), and with
    `index_box` the tile envelope test (lon/lat), which the builder also pushes into an as-of query."""
    filters = Filters(
        datetime=parse_datetime(query.datetime) if query.datetime else None,
        cql2=parse_filter(query.filter, query.filter_lang) if query.filter else None,
    )
    selected = select_features(layer, who, filters, params=Params("t"), index_box=index_box)
    return TileRows(selected.source, [selected.where], selected.params)


def property_columns(layer: Layer, who: Principal, detail: bool = True) -> list[sql.Composable]:
    """``<masked expression> AS "<field>"`` for the layer's fields (the id travels as the MVT id); without
    `detail`, fields marked ``detail`` (addresses, names) stay out: overview tiles carry what styling needs."""
    return [
        sql.SQL("{} AS {}").format(column_expression(layer, f.name, who), quote(f.name))
        for f in layer.fields
        if f.name != layer.geometry_column and (detail or not f.detail)
    ]


def mvt_id_column(layer: Layer) -> sql.Composable | None:
    """The id as the MVT feature id, which must be an unsigned integer: None for layers with other ids."""
    if known_columns(layer)[layer.id_column].type == "integer":
        return sql.SQL("{}::int8 AS mvt_id").format(quote(layer.id_column))
    return None


def numeric_fields(layer: Layer, who: Principal) -> list[str]:
    """Fields worth averaging in grid statistics: numbers the caller may see."""
    known = known_columns(layer)
    return [
        f.name
        for f in layer.fields
        if f.type in ("integer", "number")
        and f.name in known
        and not (f.personal or f.mask)
        and f.name != layer.id_column
    ]
