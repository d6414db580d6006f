"""Query parameters of the feature routes, parsed into domain types (``layers.query``) or a 400 saying why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from psycopg import AsyncConnection

from api.db import connection
from api.deps import get_principal
from api.settings import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from layers.access import Principal
from layers.catalog import Layer, readable_layer
from layers.query import Filters, known_columns, parse_bbox, parse_datetime, parse_filter, request_crs
from layers.query.pages import SortKey, parse_sortby
from spatial.crs import CrsRef
from spatial.errors import InvalidInput

# Parameters the items route understands; any other one must name a property (an equality filter).
ITEMS_PARAMETERS = frozenset(
    {
        "bbox",
        "bbox-crs",
        "datetime",
        "limit",
        "offset",
        "properties",
        "sortby",
        "crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "f",
        "api_key",
    }
)


@dataclass(frozen=True)
class ItemsRequest:
    filters: Filters
    limit: int
    offset: int
    properties: list[str]
    sortby: list[SortKey]
    crs: CrsRef
    f: str | None


async def request_layer(
    collection_id: Annotated[str, Path(description="A collection id from /collections.", max_length=100)],
    who: Annotated[Principal, Depends(get_principal)],
    conn: Annotated[AsyncConnection[Any], Depends(connection)],
) -> Layer:
    return await readable_layer(conn, collection_id, who)


def property_names(layer: Layer, text: str | None) -> list[str]:
    """The ``properties`` parameter: a subset of the layer's fields (all when absent, none when empty)."""
    fields = [f.name for f in layer.fields]
    if text is None:
        return fields
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise InvalidInput(
            f"unknown properties {', '.join(map(repr, unknown))} for collection {layer.id!r}: "
            f"use some of {', '.join(fields)}"
        )
    return list(dict.fromkeys(names))


def property_filters(request: Request, layer: Layer) -> dict[str, str]:
    """``?use=office``-style equality filters; an unknown parameter is an error, not silently ignored."""
    columns = known_columns(layer)
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in ITEMS_PARAMETERS:
            continue
        if name not in columns:
            raise InvalidInput(
                f"unknown query parameter {name!r}: use {', '.join(sorted(ITEMS_PARAMETERS))} or "
                f"a property of collection {layer.id!r} ({', '.join(columns)})"
            )
        found[name] = value
    return found


def check_limits(limit: int | None, offset: int | None) -> tuple[int, int]:
    """A limit past MAX_LIMIT is served as MAX_LIMIT (OGC API Features Part 1, /req/core/fc-limit-response-1);
    below 1 it cannot mean anything and is a 400."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1 (pages hold up to {MAX_LIMIT}), got {limit}")
    limit = min(limit, MAX_LIMIT)
    offset = offset or 0
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
    return limit, offset


async def items_request(
    request: Request,
    layer: Annotated[Layer, Depends(request_layer)],
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy in bbox-crs (CRS84: lon,lat)."),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox (default CRS84)."),
    datetime: str | None = Query(None, description="An instant or interval, RFC 3339; '..' for open ends."),
    limit: int = Query(
        DEFAULT_LIMIT,
        description=f"Features per page (default {DEFAULT_LIMIT}; a larger limit than {MAX_LIMIT} is served as "
        f"{MAX_LIMIT}).",
        # Declared, not enforced by FastAPI: a limit past the maximum is clamped, not refused (see check_limits).
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
    offset: int | None = Query(None, description="Features to skip (the next link sets it)."),
    properties: str | None = Query(None, description="Comma-separated properties to return."),
    sortby: str | None = Query(None, description="Comma-separated properties, '-' for descending."),
    crs: str | None = Query(None, description="CRS of the returned geometries (default CRS84)."),
    filter_: str | None = Query(None, alias="filter", description="A CQL2 filter (text or JSON)."),
    filter_lang: str | None = Query(
        None, alias="filter-lang", description="cql2-text (default) or cql2-json."
    ),
    filter_crs: str | None = Query(None, alias="filter-crs", description="CRS of geometries in the filter."),
    f: str | None = Query(None, description="json (GeoJSON) or html."),
) -> ItemsRequest:
    box_crs = request_crs(bbox_crs, "bbox-crs")
    if bbox_crs is not None and bbox is None:
        raise InvalidInput("bbox-crs was given without bbox")
    filters = Filters(
        bbox=parse_bbox(bbox, box_crs) if bbox is not None else None,
        datetime=parse_datetime(datetime) if datetime is not None else None,
        cql2=parse_filter(filter_, filter_lang) if filter_ else None,
        filter_crs=request_crs(filter_crs, "filter-crs"),
        properties=property_filters(request, layer),
    )
    limit, offset = check_limits(limit, offset)
    return ItemsRequest(
        filters,
        limit,
        offset,
        property_names(layer, properties),
        parse_sortby(sortby),
        request_crs(crs, "crs"),
        f,
    )
