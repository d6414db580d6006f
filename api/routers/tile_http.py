"""HTTP details shared by the tile and raster routers: the tile service dependency, query parameters, and
responses with ETag / If-None-Match (304), gzip and cache headers."""

from __future__ import annotations

from fastapi import Query, Request, Response

from layers.access import Principal
from tiles.cache import CachedTile
from tiles.query import TileQuery
from tiles.service import TileService, unzip
from tiles.settings import get_tile_settings

MVT = "application/vnd.mapbox-vector-tile"


def get_tile_service(request: Request) -> TileService:
    service: TileService = request.app.state.tiles
    return service


def tile_query(
    datetime: str | None = Query(default=None, description="Instant or interval (as for features)."),
    filter: str | None = Query(default=None, description="CQL2 filter (as for features)."),
    filter_lang: str | None = Query(default=None, alias="filter-lang", description="cql2-text or cql2-json"),
) -> TileQuery:
    return TileQuery.of(datetime, filter, filter_lang)


def _headers(tile: CachedTile, who: Principal) -> dict[str, str]:
    scope = "public" if who.role == "public" else "private"
    return {
        "ETag": tile.etag,
        "Cache-Control": f"{scope}, max-age={get_tile_settings().max_age}",
        "Vary": "Accept-Encoding, X-API-Key",
        "X-Tile-Cache": "hit" if tile.hit else "miss",
    }


def _not_modified(request: Request, tile: CachedTile) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") in (tile.etag, "*") for tag in wanted.split(",") if tag.strip())


def vector_response(request: Request, tile: CachedTile, who: Principal) -> Response:
    """An MVT: sent gzip-compressed as cached when the client accepts it, else decompressed."""
    headers = _headers(tile, who)
    if _not_modified(request, tile):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(tile.body, media_type=MVT, headers=headers)
    return Response(unzip(tile.body), media_type=MVT, headers=headers)


def image_response(request: Request, tile: CachedTile, media_type: str, who: Principal) -> Response:
    headers = _headers(tile, who)
    if _not_modified(request, tile):
        return Response(status_code=304, headers=headers)
    if not tile.body:
        return Response(status_code=204, headers=headers)
    return Response(tile.body, media_type=media_type, headers=headers)
