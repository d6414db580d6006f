"""OGC API Features Parts 1-3 (read): collections, queryables, items and single features.

Pages are built by ``layers.query.pages`` in one query; this module adds the envelope (counts, links) and
chooses GeoJSON or HTML. numberMatched is exact while the planner expects few matches, else its estimate.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from psycopg import AsyncConnection

from api.db import connection
from api.dependencies.features import ItemsRequest, items_request, property_names, request_layer
from api.deps import get_principal
from api.execute import fetch_one
from api.links import JSON, QUERYABLES, base_url, link, with_link_header
from api.routers.ogc_common import GEOJSON, FormatParam, respond, wants_html
from api.routers.ogc_html import render_html
from api.routers.raster import raster_collection
from api.routers.tile_http import collection_tile_links
from api.settings import get_api_settings
from layers.access import Principal
from layers.audit import record_personal_read, reveals_personal_data
from layers.catalog import Layer, readable_layers
from layers.query import Filters, known_columns, parse_datetime, request_crs, select_features
from layers.query.pages import count_query, explain_query, feature_query, page_query
from layers.query.selection import Selection
from spatial.crs import CRS84_URI, served_crs
from spatial.errors import Forbidden, NotFound

router = APIRouter(tags=["OGC API Features"])

# What the read routes here (and the landing page and /conformance they go with) implement; api.conformance
# declares it while this module is mounted.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
]

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Who = Annotated[Principal, Depends(get_principal)]
CRS_URIS = [ref.uri for ref in served_crs() if ref.uri]
JSON_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def collection_doc(root: str, layer: Layer, extent: list[float] | None) -> dict[str, Any]:
    href = f"{root}/collections/{layer.id}"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": CRS_URIS,
        "storageCrs": CRS84_URI,
        "links": [
            link(href, "self", title=layer.title),
            link(f"{href}/items", "items", GEOJSON, "Features (GeoJSON)"),
            link(f"{href}/items?f=html", "items", "text/html", "Features (HTML)"),
            link(f"{href}/queryables", QUERYABLES, "application/schema+json", "Queryables"),
            *collection_tile_links(root, layer),
        ],
        "extent": {
            "temporal": {
                "interval": [[None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
        },
    }
    if extent:
        doc["extent"]["spatial"] = {"bbox": [extent], "crs": CRS84_URI}
    return doc


async def estimated_extents(conn: AsyncConnection[Any], layers: list[Layer]) -> dict[str, list[float]]:
    """Per source table, the bounding box from the planner's statistics (cheap; absent before ANALYZE)."""
    sources = sorted({(layer.source, layer.geometry_column) for layer in layers})
    extents: dict[str, list[float]] = {}
    for source, column in sources:
        try:
            row = await fetch_one(
                conn,
                "SELECT ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, "
                "ST_YMax(e) AS y1 FROM ST_EstimatedExtent('onemap', %(t)s, %(c)s) AS e",
                {"t": source, "c": column},
            )
        except Exception:  # no statistics yet, or a view: the extent is optional
            continue
        if row and row["x0"] is not None:
            extents[source] = [row["x0"], row["y0"], row["x1"], row["y1"]]
    return extents


@router.get("/collections", summary="The collections (layers) your key may read")
async def collections(request: Request, conn: Conn, who: Who, f: str | None = FormatParam) -> Response:
    root = base_url(request)
    layers = await readable_layers(conn, who)
    extents = await estimated_extents(conn, layers)
    doc = {
        "links": [link(f"{root}/collections", "self")],
        # Feature collections only: Features clients (GDAL's OAPIF, QGIS, the ogctests suite) take every entry
        # for one and ask for its items. Raster layers answer /collections/{id} and their tilesets.
        "collections": [collection_doc(root, layer, extents.get(layer.source)) for layer in layers],
    }
    return respond(request, doc, f)


@router.get("/collections/{collection_id}", summary="One collection")
async def collection(
    request: Request,
    conn: Conn,
    who: Who,
    collection_id: Annotated[str, Path(description="A collection id from /collections.", max_length=100)],
    f: str | None = FormatParam,
) -> Response:
    raster = await raster_collection(request, conn, collection_id, who)  # rasters have no features
    if raster is not None:
        return respond(request, raster, f)
    layer = await request_layer(collection_id, who, conn)
    extents = await estimated_extents(conn, [layer])
    return respond(request, collection_doc(base_url(request), layer, extents.get(layer.source)), f)


@router.get("/collections/{collection_id}/queryables", summary="Properties a filter may use (JSON Schema)")
async def queryables(
    request: Request, layer: Annotated[Layer, Depends(request_layer)], f: str | None = FormatParam
) -> Response:
    href = f"{base_url(request)}/collections/{layer.id}/queryables"
    properties: dict[str, Any] = {
        name: {"title": field.title or name, **JSON_SCHEMA_TYPES.get(field.type, {"type": "string"})}
        for name, field in known_columns(layer).items()
    }
    properties[layer.geometry_column] = {
        "title": "geometry",
        "format": "geometry-any",
        "$ref": "https://geojson.org/schema/Geometry.json",
    }
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": href,
        "type": "object",
        "title": layer.title,
        "properties": properties,
        "additionalProperties": False,
        "links": [link(href, "self", "application/schema+json")],
    }
    return respond(request, doc, f, media_type="application/schema+json")


async def number_matched(conn: AsyncConnection[Any], selection: Selection) -> int:
    """Exact while the planner expects few matches; its estimate above ``exact_count_below``."""
    plan = await fetch_one(conn, explain_query(selection), selection.params.values)
    estimate = int(_plan_rows(plan))
    if estimate >= get_api_settings().exact_count_below:
        return estimate
    row = await fetch_one(conn, count_query(selection), selection.params.values)
    return int(row["matched"]) if row else 0


def _plan_rows(plan: dict[str, Any] | None) -> float:
    if not plan:
        return 0
    document = next(iter(plan.values()))
    if isinstance(document, str):
        document = json.loads(document)
    return float(document[0]["Plan"]["Plan Rows"])


def page_links(
    request: Request, layer: Layer, query: ItemsRequest, returned: int, matched: int
) -> list[dict[str, str]]:
    href = f"{base_url(request)}/collections/{layer.id}/items"
    # The limit served (a larger one asked for is clamped), so that a client reading the links pages by it.
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "f", "limit")]
    params.append(("limit", str(query.limit)))
    html = wants_html(request, query.f)

    def at(offset: int, f: str | None = query.f) -> str:
        return f"{href}?{urlencode([*params, *([('f', f)] if f else []), ('offset', str(offset))])}"

    links = [
        link(at(query.offset), "self", "text/html" if html else GEOJSON),
        link(at(query.offset, "json" if html else "html"), "alternate", GEOJSON if html else "text/html",
             "This page as GeoJSON" if html else "This page as HTML"),
        link(f"{base_url(request)}/collections/{layer.id}", "collection", JSON),
        link(f"{base_url(request)}/collections/{layer.id}/queryables", QUERYABLES, "application/schema+json",
             "Properties a filter may use"),
    ]
    if query.offset + returned < matched:
        links.append(link(at(query.offset + query.limit), "next", GEOJSON, "Next page"))
    if query.offset > 0:
        links.append(link(at(max(query.offset - query.limit, 0)), "prev", GEOJSON, "Previous page"))
    return links


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection, one page at a time",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
)
async def items(
    request: Request,
    conn: Conn,
    who: Who,
    layer: Annotated[Layer, Depends(request_layer)],
    query: Annotated[ItemsRequest, Depends(items_request)],
) -> Response:
    selection = select_features(layer, who, query.filters)
    page_sql = page_query(selection, query.properties, query.sortby, query.limit, query.offset, query.crs)
    page = await fetch_one(conn, page_sql, selection.params.values)
    assert page is not None
    returned = int(page["returned"])
    matched = await number_matched(conn, selection)
    if returned == query.limit and matched <= query.offset + returned:
        matched = query.offset + returned + 1  # an estimate that is too low must not hide the next page
    if returned and reveals_personal_data(layer, who):
        detail = {"query": str(request.query_params), "returned": returned}
        await record_personal_read(conn, who, "collection", layer.id, detail)
    links = page_links(request, layer, query, returned, matched)
    envelope = {
        "numberReturned": returned,
        "numberMatched": matched,
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    headers = with_link_header({"Content-Crs": f"<{query.crs.uri}>"}, links)
    body = (
        b'{"type":"FeatureCollection","features":['
        + page["features"].encode()
        + b"],"
        + orjson.dumps(envelope)[1:]
    )
    if wants_html(request, query.f):
        return HTMLResponse(render_html({"title": layer.title, **orjson.loads(body)}), headers=headers)
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
)
async def item(
    request: Request,
    conn: Conn,
    who: Who,
    layer: Annotated[Layer, Depends(request_layer)],
    feature_id: Annotated[str, Path(max_length=200)],
    crs: Annotated[str | None, Query(description="CRS of the returned geometry.")] = None,
    datetime: Annotated[str | None, Query(description="The version valid at this instant.")] = None,
    properties: Annotated[str | None, Query(description="Comma-separated properties to return.")] = None,
    f: str | None = FormatParam,
) -> Response:
    when = parse_datetime(datetime) if datetime else None
    selection = select_features(layer, who, Filters(datetime=when))
    names = property_names(layer, properties)
    out_crs = request_crs(crs)
    row = await fetch_one(conn, feature_query(selection, feature_id, names, out_crs), selection.params.values)
    if row is None:
        await explain_absence(conn, layer, who, feature_id)
        raise NotFound(f"no feature {feature_id!r} in collection {layer.id!r}")
    if reveals_personal_data(layer, who):
        await record_personal_read(conn, who, "feature", f"{layer.id}/{feature_id}", {})
    href = f"{base_url(request)}/collections/{layer.id}/items/{quote(feature_id, safe='')}"
    html = wants_html(request, f)
    links = [
        link(href + ("?f=html" if html else ""), "self", "text/html" if html else GEOJSON),
        link(href + ("?f=json" if html else "?f=html"), "alternate", GEOJSON if html else "text/html"),
        link(f"{base_url(request)}/collections/{layer.id}", "collection"),
    ]
    body = row["feature"][:-1] + "," + orjson.dumps({"links": links}).decode()[1:]
    headers = with_link_header({"Content-Crs": f"<{out_crs.uri}>"}, links)
    if html:
        return HTMLResponse(render_html(json.loads(body)), headers=headers)
    return Response(body, media_type=GEOJSON, headers=headers)


async def explain_absence(conn: AsyncConnection[Any], layer: Layer, who: Principal, feature_id: str) -> None:
    """A grid worker asking for a feature of another grid is told so (403), not that it does not exist."""
    if not who.scoped or not layer.grid_column:
        return
    from layers.access import ADMIN

    everyone = select_features(layer, ADMIN)
    row = await fetch_one(conn, feature_query(everyone, feature_id, []), everyone.params.values)
    if row is not None:
        raise Forbidden(
            f"feature {feature_id!r} lies outside {who.visibility_class}, the only area your key covers"
        )
