"""What every OGC API route shares: absolute links, the ``f`` parameter, JSON or HTML output, and the
landing page and conformance declaration."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.routers.ogc_html import render_html
from spatial.errors import InvalidInput

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
FORMATS = ("json", "html")
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"  # OGC API - Tiles link relation

FormatParam = Query(
    default=None,
    description="Output format: json or html (default from the Accept header).",
    pattern="^(json|html)$",
)

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
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
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


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str = JSON, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": type_}
    if title:
        found["title"] = title
    return found


def wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        if f not in FORMATS:
            raise InvalidInput(f"unknown format f={f!r}: use json or html")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def respond(
    request: Request,
    doc: dict[str, Any],
    f: str | None,
    media_type: str = JSON,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_html(request, f):
        return HTMLResponse(render_html(doc), headers=headers)
    return Response(orjson.dumps(doc), media_type=media_type, headers=headers)


router = APIRouter(tags=["OGC API Features"])


@router.get("/", summary="Landing page")
async def landing(request: Request, f: str | None = FormatParam) -> Response:
    root = base_url(request)
    doc = {
        "title": "onemap",
        "description": "One map for city operations: OGC API Features over the district's layers, and the "
        "building, person and enterprise archives.",
        "links": [
            link(f"{root}/", "self", title="This document"),
            link(f"{root}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API"),
            link(f"{root}/api.html", "service-doc", HTML, "The API documentation"),
            link(f"{root}/conformance", "conformance", title="Conformance classes"),
            link(f"{root}/collections", "data", title="Collections"),
            link(f"{root}/tiles", TILESETS_VECTOR, title="Vector tiles of every layer (dataset tilesets)"),
        ],
    }
    return respond(request, doc, f)


@router.get("/conformance", summary="Conformance classes implemented")
async def conformance(request: Request, f: str | None = FormatParam) -> Response:
    root = base_url(request)
    return respond(request, {"conformsTo": CONFORMANCE, "links": [link(f"{root}/conformance", "self")]}, f)
