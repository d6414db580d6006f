"""The shared SQL builder of layer queries: features (OGC API Features) and tiles use the same rules.

Public API (everything a caller needs; all values become bound parameters, all names are checked against the
layer's catalog fields and quoted by ``columns.quote``)::

    from layers.query import Filters, Params, select_features, parse_bbox, parse_datetime, parse_filter

    filters = Filters(
        bbox=parse_bbox("114.2,22.7,114.3,22.8", crs=request_crs("EPSG:4326")),  # optional
        datetime=parse_datetime("2024-01-01/.."),     # optional: "as of" for versioned layers (history union)
        cql2=parse_filter("floors > 10 AND use = 'office'"),   # optional, CQL2 text or JSON
        properties={"use": "office"},                  # optional equality filters
    )
    sel = select_features(layer, principal, filters)   # -> Selection; Forbidden / InvalidInput
    # sel.source : Composable  "onemap.building AS t" or the as-of subquery "(...) AS t"
    # sel.where  : Composable  row filter (grid workers) AND bbox AND datetime AND properties AND CQL2
    # sel.column("name") : the column as the principal may see it (onemap.mask_* for personal fields)
    # sel.geometry, sel.id : quoted identifiers; sel.params.values : the bound values (a dict)
    query = sql.SQL("SELECT {g} FROM {src} WHERE {w} AND {g} && {env}").format(
        g=sel.geometry, src=sel.source, w=sel.where, env=...)   # add your own values with sel.params.add(v)
    await conn.execute(query, sel.params.values)

Pass ``params=Params(prefix="x")`` to ``select_features`` to compose several selections into one statement
(one prefix per layer). ``pages`` builds GeoJSON pages from a Selection (``page_query``, ``feature_query``,
``count_query``, ``explain_query``); ``edits`` builds Part 4 writes. Errors raised are the domain errors of
``spatial.errors`` / ``layers.errors``, which the API maps to 4xx problem responses.
"""

from layers.query.columns import column_expression, known_columns, quote, require_field
from layers.query.cql import parse_filter
from layers.query.geometry import BBox, parse_bbox, request_crs
from layers.query.params import Params
from layers.query.selection import Filters, Selection, row_filter, select_features
from layers.query.source import layer_source
from layers.query.temporal import TimeInterval, parse_as_of, parse_datetime

__all__ = [
    "BBox",
    "Filters",
    "Params",
    "Selection",
    "TimeInterval",
    "column_expression",
    "known_columns",
    "layer_source",
    "parse_as_of",
    "parse_bbox",
    "parse_datetime",
    "parse_filter",
    "quote",
    "request_crs",
    "require_field",
    "row_filter",
    "select_features",
]
