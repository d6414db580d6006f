"""Raster layers (COGs in the catalog, same roles as every layer): their collection documents, info,
statistics and point queries; their tiles are served by the collection tile route of ``tiles.py``
(``TileService`` renders and caches them).

    /collections/{id}                       (answered by the features router, from ``raster_collection``)
    /collections/{id}/raster/info
    /collections/{id}/raster/statistics
    /collections/{id}/raster/point?lon=..&lat=..
    /collections/{id}/tiles/{tms}/{z}/{x}/{y}?style=relief|hillshade&f=png|webp
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from psycopg import AsyncConnection

from api.db import Db, RequestConnection
from api.deps import get_principal
from api.routers.ogc_common import JSON, base_url, link
from api.routers.tile_http import collection_tile_links, get_tile_service
from api.routers.tiles import TILES_CONF
from layers.access import Principal
from layers.catalog import Layer, fetch_layers, require_readable
from spatial.crs import CRS84_URI
from tiles import raster
from tiles.errors import InvalidTileRequest
from tiles.service import TileService

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["raster"])
# Map tiles of raster layers (OGC API - Tiles Part 1); api/conformance.py gathers every router's list. WebP has no
# conformance class of its own.
CONFORMANCE: list[str] = [f"{TILES_CONF}/png"]


async def raster_collection_doc(root: str, layer: Layer) -> dict[str, Any]:
    """A raster layer as an OGC API collection: extent and tilesets (map tiles), no items (it has no features)."""
    href = f"{root}/collections/{layer.id}"
    path = await to_thread.run_sync(raster.raster_path, layer.source)
    bbox = await to_thread.run_sync(raster.geographic_bounds, path)
    return {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "dataType": "map",
        "links": [
            link(href, "self", title=layer.title),
            *collection_tile_links(root, layer),
            link(f"{href}/raster/info", "describedby", JSON, "Raster metadata (bands, overviews)"),
        ],
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84_URI}},
    }


async def raster_collection(
    request: Request, conn: AsyncConnection[Any], layer_id: str, who: Principal
) -> dict[str, Any] | None:
    """The collection document of raster layer ``layer_id``, or None when it is no raster layer (then the
    features router answers, or 404s). A hidden or forbidden raster gets the same 404/403 as any layer."""
    found = next((layer for layer in await fetch_layers(conn) if layer.id == layer_id), None)
    if found is None or found.kind != "raster":
        return None
    return await raster_collection_doc(base_url(request), require_readable(found, layer_id, who))


async def _raster_layer(
    db: RequestConnection, service: TileService, layer_id: str, who: Principal
) -> tuple[Layer, Path]:
    layer = await service.catalog.get(await db.get(), layer_id, who)
    if layer.kind != "raster":
        raise InvalidTileRequest(f"layer {layer_id!r} is a vector layer: use /collections/{layer_id}/items")
    return layer, await to_thread.run_sync(raster.raster_path, layer.source)


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
