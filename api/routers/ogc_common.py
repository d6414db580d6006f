"""What every OGC API route shares: the ``f`` parameter, JSON or HTML output (links also as a ``Link`` header),
and the landing page and conformance declaration. ``base_url`` and ``link`` live in ``api.links``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.links import JSON, base_url, link, with_link_header
from api.routers.ogc_html import render_html
from spatial.errors import InvalidInput

# base_url and link are re-exported for the route modules that import them from here.
__all__ = ["FORMATS",
           "GEOJSON", "HTML", "JSON", "FormatParam", "base_url", "link", "respond", "router", "wants_html"]

GEOJSON = "application/geo+json"
HTML = "text/html"
FORMATS = ("json", "html")
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"  # OGC API - Tiles link relation

FormatParam = Query(
    default=None,
    description="Output format: json or html (default from the Accept header).",
    pattern="^(json|html)$",
)


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
    headers = with_link_header(headers, doc.get("links", []))
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
    # Collected by api.conformance from the mounted route modules when the app was assembled.
    declared = request.app.state.conformance
    return respond(request, {"conformsTo": declared, "links": [link(f"{root}/conformance", "self")]}, f)
