"""OGC API Tiles for vector (and, by dispatch, raster) layers, TileJSON 3.0 and the tile matrix sets.

/tileMatrixSets                                     the served tile matrix sets
/tileMatrixSets/{tms}                               one definition (OGC TMS 2.0 JSON)
/collections/{id}/tiles                             the layer's tilesets, one per tile matrix set
/collections/{id}/tiles/{tms}                       one tileset (links, tile template)
/collections/{id}/tiles/{tms}/tilejson.json         TileJSON 3.0
/collections/{id}/tiles/{tms}/{z}/{x}/{y}           MVT (vector layers) or PNG/WebP (raster layers)
/tiles/{tms}/{z}/{x}/{y}?collections=a,b            one MVT with several layers
/tiles/{tms}/tilejson.json?collections=a,b          its TileJSON
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response

from api.db import Db, RequestConnection
from api.deps import get_principal
from api.routers.tile_http import MVT, get_tile_service, tile_query, vector_response
from layers.access import Principal
from layers.catalog import Layer
from tiles.errors import InvalidTileRequest
from tiles.query import TileQuery
from tiles.service import TileService
from tiles.tms import SERVED, get_tms, tile_address

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["tiles"])
FIELD_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}
DEFAULT_BOUNDS = [113.75, 22.45, 114.65, 22.85]  # Shenzhen


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _passthrough(request: Request) -> str:
    """Query parameters a tile URL template must keep: the key (for clients that cannot set headers), the
    query, and the raster style/format."""
    kept = {
        k: v
        for k, v in request.query_params.items()
        if k in ("api_key", "datetime", "filter", "filter-lang", "collections", "style", "f")
    }
    return ("?" + urlencode(kept)) if kept else ""


def collection_template(request: Request, layer_id: str, tms_id: str) -> str:
    return f"{_base(request)}/collections/{layer_id}/tiles/{tms_id}/{{z}}/{{x}}/{{y}}{_passthrough(request)}"


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> dict[str, Any]:
    return {
        "tileMatrixSets": [
            {
                "id": tms_id,
                "title": get_tms(tms_id).title or tms_id,
                "uri": get_tms(tms_id).uri,
                "crs": str(get_tms(tms_id).crs.root)
                if hasattr(get_tms(tms_id).crs, "root")
                else str(get_tms(tms_id).crs),
                "links": [
                    {
                        "rel": "self",
                        "type": "application/json",
                        "href": f"{_base(request)}/tileMatrixSets/{tms_id}",
                    }
                ],
            }
            for tms_id in SERVED
        ]
    }


@router.get("/tileMatrixSets/{tms_id}", summary="One tile matrix set (OGC TMS 2.0)")
async def tile_matrix_set(tms_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = get_tms(tms_id).model_dump(mode="json", exclude_none=True)
    return definition


async def _layer(db: RequestConnection, service: TileService, layer_id: str, who: Principal) -> Layer:
    if service.catalog.loaded:  # the hot path of a cached tile: no database connection at all
        return await service.catalog.get(None, layer_id, who)
    return await service.catalog.get(await db.get(), layer_id, who)


def _tileset(request: Request, layer: Layer, tms_id: str) -> dict[str, Any]:
    tms = get_tms(tms_id)
    raster = layer.kind == "raster"
    return {
        "title": f"{layer.title} ({tms_id})",
        "dataType": "map" if raster else "vector",
        "crs": str(tms.crs.root) if hasattr(tms.crs, "root") else str(tms.crs),
        "tileMatrixSetURI": tms.uri,
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{_base(request)}/collections/{layer.id}/tiles/{tms_id}",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "type": "application/json",
                "href": f"{_base(request)}/tileMatrixSets/{tms_id}",
            },
            {
                "rel": "item",
                "templated": True,
                "type": "image/png" if raster else MVT,
                "href": collection_template(request, layer.id, tms_id),
            },
            {
                "rel": "describedby",
                "type": "application/json",
                "href": f"{_base(request)}/collections/{layer.id}/tiles/{tms_id}/tilejson.json",
            },
        ],
    }


@router.get("/collections/{layer_id}/tiles", summary="The tilesets of a layer")
async def tilesets(request: Request, *, layer_id: str, who: Who, service: Service, db: Db) -> dict[str, Any]:
    layer = await _layer(db, service, layer_id, who)
    return {
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{_base(request)}/collections/{layer_id}/tiles",
            }
        ],
        "tilesets": [_tileset(request, layer, tms_id) for tms_id in SERVED],
    }


@router.get("/collections/{layer_id}/tiles/{tms_id}", summary="One tileset of a layer")
async def tileset(
    request: Request, *, layer_id: str, tms_id: str, who: Who, service: Service, db: Db
) -> dict[str, Any]:
    get_tms(tms_id)
    return _tileset(request, await _layer(db, service, layer_id, who), tms_id)


def tilejson(request: Request, layers: list[Layer], tms_id: str, template: str, name: str) -> dict[str, Any]:
    tms = get_tms(tms_id)
    raster = all(layer.kind == "raster" for layer in layers)
    minzoom = max(tms.minzoom, min(layer.min_zoom for layer in layers))
    maxzoom = min(tms.maxzoom, max(layer.max_zoom for layer in layers))
    document: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": DEFAULT_BOUNDS,
        "center": [114.25, 22.72, max(minzoom, 12)],
        "crs": tms.uri,
        "version": ".".join(str(layer.version) for layer in layers),
        "description": "; ".join(layer.description or layer.title for layer in layers),
    }
    if not raster:
        document["vector_layers"] = [
            {
                "id": layer.id,
                "description": layer.title,
                "minzoom": layer.min_zoom,
                "maxzoom": layer.max_zoom,
                "fields": {f.name: FIELD_TYPES.get(f.type, "String") for f in layer.fields},
            }
            for layer in layers
        ]
    return document


@router.get("/collections/{layer_id}/tiles/{tms_id}/tilejson.json", summary="TileJSON 3.0 of a layer")
async def layer_tilejson(
    request: Request, *, layer_id: str, tms_id: str, who: Who, service: Service, db: Db
) -> dict[str, Any]:
    layer = await _layer(db, service, layer_id, who)
    return tilejson(request, [layer], tms_id, collection_template(request, layer_id, tms_id), layer.title)


@router.get(
    "/collections/{layer_id}/tiles/{tms_id}/{z}/{x}/{y}",
    summary="A tile of a layer",
    responses={200: {"content": {MVT: {}, "image/png": {}, "image/webp": {}}}, 304: {}, 204: {}},
)
async def layer_tile(
    request: Request,
    *,
    layer_id: str,
    tms_id: str,
    z: int,
    x: int,
    y: int,
    style: str = Query(default="relief", description="Raster layers: relief or hillshade."),
    f: str = Query(default="png", description="Raster layers: png or webp."),
    query: Annotated[TileQuery, Depends(tile_query)],
    who: Who,
    service: Service,
    db: Db,
) -> Response:
    address = tile_address(tms_id, z, x, y)
    layer = await _layer(db, service, layer_id, who)
    if layer.kind == "raster":
        from api.routers.raster import raster_tile_response

        return await raster_tile_response(request, service, layer, address, style, f, who)
    if not layer.min_zoom <= z <= layer.max_zoom:
        return Response(status_code=204)
    return vector_response(request, await service.vector_tile([layer], who, query, address, db.use), who)


async def _vector_layers(
    db: RequestConnection, service: TileService, collections: str | None, who: Principal
) -> list[Layer]:
    conn = await db.get()
    if not collections:
        return [layer for layer in await service.catalog.readable(conn, who) if layer.kind != "raster"]
    names = [name.strip() for name in collections.split(",") if name.strip()]
    layers = [await service.catalog.get(conn, name, who) for name in dict.fromkeys(names)]
    rasters = [layer.id for layer in layers if layer.kind == "raster"]
    if rasters:
        raise InvalidTileRequest(f"raster layers cannot be part of a vector tile: {', '.join(rasters)}")
    return layers


@router.get("/tiles/{tms_id}/tilejson.json", summary="TileJSON 3.0 of a multi-layer tileset")
async def multi_tilejson(
    request: Request,
    *,
    tms_id: str,
    collections: str | None = Query(default=None),
    who: Who,
    service: Service,
    db: Db,
) -> dict[str, Any]:
    layers = await _vector_layers(db, service, collections, who)
    if not layers:
        raise InvalidTileRequest("no vector layer to tile: name some with ?collections=")
    template = f"{_base(request)}/tiles/{tms_id}/{{z}}/{{x}}/{{y}}{_passthrough(request)}"
    return tilejson(request, layers, tms_id, template, "onemap")


@router.get(
    "/tiles/{tms_id}/{z}/{x}/{y}",
    summary="One vector tile with several layers",
    responses={200: {"content": {MVT: {}}}, 304: {}},
)
async def multi_tile(
    request: Request,
    *,
    tms_id: str,
    z: int,
    x: int,
    y: int,
    collections: str | None = Query(default=None, description="Comma-separated layer ids."),
    query: Annotated[TileQuery, Depends(tile_query)],
    who: Who,
    service: Service,
    db: Db,
) -> Response:
    address = tile_address(tms_id, z, x, y)
    layers = [
        layer
        for layer in await _vector_layers(db, service, collections, who)
        if layer.min_zoom <= z <= layer.max_zoom
    ]
    if not layers:
        return Response(status_code=204)
    return vector_response(request, await service.vector_tile(layers, who, query, address, db.use), who)
