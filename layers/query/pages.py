"""GeoJSON built in the database: a page of features is one query returning one text value.

Each feature's JSON is concatenated in SQL around ``ST_AsGeoJSON`` (so geometry is byte-identical to what
PostGIS writes) and the page joined with ``string_agg``; Python only wraps the page in its FeatureCollection
envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from layers.query.columns import SQL_TYPES, coerce, require_field
from layers.query.geometry import DEFAULT_CRS, output_geometry
from layers.query.selection import Selection
from layers.query.source import ALIAS
from spatial.crs import CrsRef
from spatial.errors import InvalidInput


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool = False


def parse_sortby(text: str | None) -> list[SortKey]:
    """``sortby=-floors,+name`` (also ``floors DESC``-free OGC form: a leading - means descending)."""
    keys: list[SortKey] = []
    for part in (text or "").split(","):
        item = part.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        keys.append(SortKey(name, descending))
    return keys


def _properties(selection: Selection, names: Sequence[str]) -> sql.Composable:
    if not names:
        return sql.SQL("'{}'")
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), selection.column(n)) for n in names)
    return sql.SQL("json_build_object({})::text").format(pairs)


def feature_json(selection: Selection, names: Sequence[str], crs: CrsRef = DEFAULT_CRS) -> sql.Composable:
    """One feature's GeoJSON text, from the row in scope."""
    geometry = output_geometry(selection.geometry, crs, selection.column_srid)
    return sql.SQL(
        """'{{"type":"Feature","id":' || to_json({id})::text || ',"geometry":' || """
        """coalesce(ST_AsGeoJSON({geometry}, 9, 0), 'null') || ',"properties":' || {properties} || '}}'"""
    ).format(id=selection.id, geometry=geometry, properties=_properties(selection, names))


def order_by(selection: Selection, sortby: Sequence[SortKey]) -> list[tuple[sql.Composable, sql.SQL]]:
    """(expression, direction) sort keys, ending with the id so that pages are stable."""
    keys: list[tuple[sql.Composable, sql.SQL]] = []
    for key in sortby:
        require_field(selection.layer, key.name, "sortby property")
        keys.append(
            (
                selection.column(key.name),
                sql.SQL(" DESC NULLS LAST" if key.descending else " ASC NULLS FIRST"),
            )
        )
    keys.append((selection.id, sql.SQL("")))
    return keys


def page_query(
    selection: Selection,
    names: Sequence[str],
    sortby: Sequence[SortKey],
    limit: int,
    offset: int,
    crs: CrsRef = DEFAULT_CRS,
) -> sql.Composed:
    """One row: ``features`` (the features' JSON joined by commas, '' when none) and ``returned``."""
    keys = order_by(selection, sortby)
    # The sort keys travel with each feature so the aggregate keeps the page's order.
    key_names = [sql.Identifier(f"_k{i}") for i in range(len(keys))]
    key_columns = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(expr, name) for (expr, _), name in zip(keys, key_names, strict=True)
    )
    # The page's rows are picked first and only they are turned into JSON: a projection above LIMIT/OFFSET is
    # computed for every skipped row too, so offset=150000 cost 150,000 features' JSON (0.9 s, now 60 ms).
    return sql.SQL(
        "SELECT coalesce(string_agg(feature, ',' ORDER BY {agg_order}), '') AS features, "
        "count(*) AS returned "
        "FROM (SELECT {feature} AS feature, {key_columns} FROM "
        "(SELECT * FROM {source} WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS {alias}"
        ") AS page"
    ).format(
        alias=sql.Identifier(ALIAS),
        agg_order=sql.SQL(", ").join(sql.Composed([n, d]) for n, (_, d) in zip(key_names, keys, strict=True)),
        feature=feature_json(selection, names, crs),
        key_columns=key_columns,
        source=selection.source,
        where=selection.where,
        order=sql.SQL(", ").join(sql.Composed([e, d]) for e, d in keys),
        limit=selection.params.add(limit, "bigint"),
        offset=selection.params.add(offset, "bigint"),
    )


def feature_query(
    selection: Selection, feature_id: object, names: Sequence[str], crs: CrsRef = DEFAULT_CRS
) -> sql.Composed:
    """One row with ``feature`` (its GeoJSON text) when the feature is selected, no row otherwise."""
    id_field = require_field(selection.layer, selection.layer.id_column)
    try:
        value = coerce(id_field, feature_id)
    except InvalidInput:
        raise InvalidInput(f"feature ids of collection {selection.layer.id!r} are {id_field.type}s") from None
    return sql.SQL("SELECT {feature} AS feature FROM {source} WHERE {where} AND {id} = {value}").format(
        feature=feature_json(selection, names, crs),
        source=selection.source,
        where=selection.where,
        id=selection.id,
        value=selection.params.add(value, SQL_TYPES[id_field.type]),
    )


def count_query(selection: Selection) -> sql.Composed:
    return sql.SQL("SELECT count(*) AS matched FROM {} WHERE {}").format(selection.source, selection.where)


def explain_query(selection: Selection) -> sql.Composed:
    """The planner's estimate of the matches, for tables too big to count on every page."""
    return sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE {}").format(
        selection.source, selection.where
    )
