"""Raster layers (COGs in the catalog, same roles as every layer): info, statistics and point queries; their
tiles are served by the collection tile route of ``tiles.py`` through ``raster_tile_response``.

    /collections/{id}/raster/info
    /collections/{id}/raster/statistics
    /collections/{id}/raster/point?lon=..&lat=..
    /collections/{id}/tiles/{tms}/{z}/{x}/{y}?style=relief|hillshade&f=png|webp
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response

from api.db import Db, RequestConnection
from api.deps import get_principal
from api.routers.tile_http import get_tile_service, image_response
from layers.access import Principal
from layers.catalog import Layer
from tiles import raster
from tiles.cache import TileKey
from tiles.errors import InvalidTileRequest
from tiles.service import TileService
from tiles.tms import TileAddress

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["raster"])


async def _raster_layer(
    db: RequestConnection, service: TileService, layer_id: str, who: Principal
) -> tuple[Layer, Path]:
    layer = await service.catalog.get(await db.get(), layer_id, who)
    if layer.kind != "raster":
        raise InvalidTileRequest(f"layer {layer_id!r} is a vector layer: use /collections/{layer_id}/items")
    return layer, await to_thread.run_sync(raster.raster_path, layer.source)


async def raster_tile_response(
    request: Request,
    service: TileService,
    layer: Layer,
    address: TileAddress,
    style: str,
    fmt: str,
    who: Principal,
) -> Response:
    fmt = fmt.lower()
    if fmt not in raster.FORMATS:
        raise InvalidTileRequest(f"unknown image format {fmt!r}: use one of {', '.join(raster.FORMATS)}")
    if style not in raster.STYLES:
        raise InvalidTileRequest(f"unknown raster style {style!r}: use one of {', '.join(raster.STYLES)}")
    path = await to_thread.run_sync(raster.raster_path, layer.source)
    rescale = layer.style.get("rescale")
    tms_id, z, x, y = address.key
    key = TileKey(
        (layer.id,), (layer.version,), tms_id, z, x, y, TileKey.variant_of(style, fmt, str(rescale))
    )

    async def render() -> bytes:
        body = await to_thread.run_sync(
            raster.render_tile, path, address, style, fmt, tuple(rescale) if rescale else None
        )
        return body or b""  # outside the raster: an empty (204) tile, cached like any other

    tile = await service.cached(key, render)
    return image_response(request, tile, raster.FORMATS[fmt][1], who)


@router.get("/collections/{layer_id}/raster/info", summary="Raster metadata (bounds, CRS, bands, overviews)")
async def raster_info(*, layer_id: str, who: Who, service: Service, db: Db) -> dict[str, Any]:
    _, path = await _raster_layer(db, service, layer_id, who)
    return await to_thread.run_sync(raster.info, path)


@router.get("/collections/{layer_id}/raster/statistics", summary="Band statistics")
async def raster_statistics(*, layer_id: str, who: Who, service: Service, db: Db) -> dict[str, Any]:
    _, path = await _raster_layer(db, service, layer_id, who)
    return await to_thread.run_sync(raster.statistics, path)


@router.get("/collections/{layer_id}/raster/point", summary="Band values at a point (lon/lat, EPSG:4326)")
async def raster_point(
    request: Request,
    *,
    layer_id: str,
    lon: float = Query(...),
    lat: float = Query(...),
    who: Who,
    service: Service,
    db: Db,
) -> dict[str, Any]:
    _, path = await _raster_layer(db, service, layer_id, who)
    return await to_thread.run_sync(raster.point, path, lon, lat)
