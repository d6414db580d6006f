"""HTTP details shared by the tile, raster and style routers: the tile service dependency, query parameters,
the tile URL templates, and responses with ETag / If-None-Match (304), gzip and cache headers."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Query, Request, Response

from api.routers.ogc_common import JSON, TILESETS_VECTOR, base_url, link
from layers.access import Principal
from layers.catalog import Layer
from tiles.cache import CachedTile
from tiles.compression import is_empty_tile, unzip
from tiles.query import TileQuery
from tiles.service import MVT, TileService
from tiles.settings import get_tile_settings

# With TILESETS_VECTOR, the link relation from a raster collection to its (image) tilesets (OGC API - Tiles).
TILESETS_MAP = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"


def get_tile_service(request: Request) -> TileService:
    service: TileService = request.app.state.tiles
    return service


def tile_query(
    datetime: str | None = Query(default=None, description="Instant or interval (as for features)."),
    filter: str | None = Query(default=None, description="CQL2 filter (as for features)."),
    filter_lang: str | None = Query(default=None, alias="filter-lang", description="cql2-text or cql2-json"),
) -> TileQuery:
    return TileQuery.of(datetime, filter, filter_lang)


def _passthrough(request: Request, keep_key: bool = True) -> str:
    """Query parameters a tile URL template must keep: the key (for clients that cannot set headers; never in
    a style, see ``collection_template``), the query, and the raster style/format."""
    kept = {
        k: v
        for k, v in request.query_params.items()
        if k in ("datetime", "filter", "filter-lang", "collections", "style", "f") or (keep_key and k == "api_key")
    }
    return ("?" + urlencode(kept)) if kept else ""


def collection_tile_links(root: str, layer: Layer) -> list[dict[str, str]]:
    """The links a collection document gives to its tilesets: vector tiles, or map (image) tiles of a raster."""
    rel = TILESETS_MAP if layer.kind == "raster" else TILESETS_VECTOR
    kind = "Map tiles" if layer.kind == "raster" else "Vector tiles"
    return [link(f"{root}/collections/{layer.id}/tiles", rel, JSON, kind)]


def collection_template(request: Request, layer_id: str, tms_id: str, keep_key: bool = True) -> str:
    """The tile URL template of one layer (TileJSON, tilesets, MapLibre styles). Styles pass ``keep_key``
    False: a style is a document people save, share and publish, so a key in it would leak; a MapLibre client
    sends its key as the X-API-Key header from ``transformRequest`` instead."""
    return (
        f"{base_url(request)}/collections/{layer_id}/tiles/{tms_id}/{{z}}/{{x}}/{{y}}"
        f"{_passthrough(request, keep_key)}"
    )


def multi_template(request: Request, tms_id: str) -> str:
    """The tile URL template of a multi-layer tile (``collections=`` is passed through)."""
    return f"{base_url(request)}/tiles/{tms_id}/{{z}}/{{x}}/{{y}}{_passthrough(request)}"


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


def tile_response(request: Request, tile: CachedTile, media_type: str, who: Principal) -> Response:
    """An MVT is sent gzip-compressed as cached when the client accepts it, else decompressed; an MVT with no
    feature and an image outside its raster are an empty 204 (clients skip them; a 200 with no bytes makes some,
    such as GDAL, report a corrupt tile)."""
    headers = _headers(tile, who)
    if _not_modified(request, tile):
        return Response(status_code=304, headers=headers)
    if media_type == MVT and is_empty_tile(tile.body):
        return Response(status_code=204, headers=headers)
    if media_type == MVT:
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(tile.body, media_type=MVT, headers=headers)
        return Response(unzip(tile.body), media_type=MVT, headers=headers)
    if not tile.body:
        return Response(status_code=204, headers=headers)
    return Response(tile.body, media_type=media_type, headers=headers)
