"""The FROM of a layer: its table, or the versions valid during a time interval ("as of").

A versioned layer keeps previous versions of its rows in ``<source>_history`` (``spatial/sql/history.sql``),
each with [valid_from, valid_to). The current row is valid from its ``valid_from`` on. "As of t" is the union
of both, keeping the version whose period contains t; for an interval, the latest version overlapping it.
"""

from __future__ import annotations

from psycopg import sql

from layers.catalog import Layer
from layers.errors import InvalidLayer
from layers.query.columns import quote
from layers.query.params import Params
from layers.query.temporal import TimeInterval
from spatial.schema import SCHEMA

ALIAS = "t"
SERVABLE_KINDS = ("table", "view", "upload")


def relation(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(name))


def source_columns(layer: Layer) -> list[str]:
    """Every column a query of the layer may touch, once each, in a stable order."""
    names = [layer.id_column, layer.geometry_column, *(f.name for f in layer.fields)]
    names += [n for n in (layer.grid_column, layer.time_field) if n]
    names += list(layer.source_filter)
    return list(dict.fromkeys(names))


def source_filter_condition(layer: Layer, params: Params) -> sql.Composable:
    """The catalog's own narrowing of the source, e.g. admin_area where level = 'grid'."""
    parts = [
        sql.SQL("{} = {}").format(quote(column), params.add(value))
        for column, value in sorted(layer.source_filter.items())
    ]
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")


def layer_source(
    layer: Layer, params: Params, when: TimeInterval | None = None, inside: sql.Composable | None = None
) -> sql.Composed:
    """``<relation> AS t``: the current rows, or (versioned layer and ``when``) the versions valid then.

    ``inside``: a spatial condition the caller also applies outside. For an instant it is repeated inside both
    branches of the union, where the GiST indexes can use it: PostgreSQL does not push conditions through
    DISTINCT ON, so without it a tile or bbox "as of" a date reads the whole table. (For an interval it must stay
    outside: the latest version overlapping the interval is chosen first.)"""
    if layer.kind not in SERVABLE_KINDS:
        raise InvalidLayer(f"layer {layer.id!r} is of kind {layer.kind!r} and has no features")
    narrowed = source_filter_condition(layer, params)
    if not layer.versioned or when is None:
        if layer.source_filter:
            return sql.SQL("(SELECT * FROM {} WHERE {}) AS {}").format(
                relation(layer.source), narrowed, sql.Identifier(ALIAS)
            )
        return sql.SQL("{} AS {}").format(relation(layer.source), sql.Identifier(ALIAS))
    columns = sql.SQL(", ").join(
        quote(c) for c in source_columns(layer) if c not in ("valid_from", "valid_to")
    )
    current_period, history_period = _overlaps(when, params)
    if inside is not None and when.is_instant:
        current_period = sql.SQL("{} AND {}").format(current_period, inside)
        history_period = sql.SQL("{} AND {}").format(history_period, inside)
    return sql.SQL(
        "(SELECT DISTINCT ON ({id}) * FROM ("
        "SELECT {columns}, valid_from, NULL::timestamptz AS valid_to FROM {current} "
        "WHERE {narrowed} AND {current_period} "
        "UNION ALL "
        "SELECT {columns}, valid_from, valid_to FROM {history} WHERE {narrowed} AND {history_period}"
        ") AS versions ORDER BY {id}, valid_from DESC) AS {alias}"
    ).format(
        id=quote(layer.id_column),
        columns=columns,
        current=relation(layer.source),
        history=relation(layer.source + "_history"),
        narrowed=narrowed,
        current_period=current_period,
        history_period=history_period,
        alias=sql.Identifier(ALIAS),
    )


def _overlaps(when: TimeInterval, params: Params) -> tuple[sql.Composable, sql.Composable]:
    """[valid_from, valid_to) overlaps the closed interval [start, end]: (for current rows, for history rows).

    Current rows have no valid_to (open-ended), so only their start is compared.
    """
    current: list[sql.Composable] = []
    history: list[sql.Composable] = []
    if when.end is not None:
        starts_before_end = sql.SQL("valid_from <= {}").format(params.add(when.end, "timestamptz"))
        current.append(starts_before_end)
        history.append(starts_before_end)
    if when.start is not None:
        history.append(sql.SQL("valid_to > {}").format(params.add(when.start, "timestamptz")))
    return (
        sql.SQL(" AND ").join(current) if current else sql.SQL("TRUE"),
        sql.SQL(" AND ").join(history) if history else sql.SQL("TRUE"),
    )
