"""OGC API Tiles for vector (and, by dispatch, raster) layers, TileJSON 3.0 and the tile matrix sets.

/tileMatrixSets                                     the served tile matrix sets
/tileMatrixSets/{tms}                               one definition (OGC TMS 2.0 JSON)
/collections/{id}/tiles                             the layer's tilesets, one per tile matrix set
/collections/{id}/tiles/{tms}                       one tileset (links, tile template)
/collections/{id}/tiles/{tms}/tilejson.json         TileJSON 3.0
/collections/{id}/tiles/{tms}/{z}/{x}/{y}           MVT (vector layers) or PNG/WebP (raster layers)
/tiles                                              the dataset's tilesets (every vector layer in one tile)
/tiles/{tms}                                        one dataset tileset
/tiles/{tms}/{z}/{x}/{y}?collections=a,b            one MVT with several layers
/tiles/{tms}/tilejson.json?collections=a,b          its TileJSON

Vector tile URLs answer MVT without any format parameter, and take a ``.mvt`` or ``.pbf`` suffix on the row for
clients that tell formats by the file name (GDAL's MVT driver, static-tile tools). An empty vector tile is 204.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.db import Db, RequestConnection
from api.deps import get_principal
from api.routers.ogc_common import JSON, base_url, link
from api.routers.tile_http import (
    collection_template,
    get_tile_service,
    multi_template,
    tile_query,
    tile_response,
)
from layers.access import Principal
from layers.catalog import Layer
from tiles.errors import InvalidTileRequest
from tiles.query import TileQuery
from tiles.service import MVT, Look, TileService
from tiles.tms import SERVED, definition, get_tms, tile_address, tile_ranges

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["tiles"])
FIELD_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}
DEFAULT_BOUNDS = [113.75, 22.45, 114.65, 22.85]  # Shenzhen
TILES_CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
# OGC API - Tiles Part 1 classes this module implements (api/conformance.py gathers every router's list).
CONFORMANCE: list[str] = [
    f"{TILES_CONF}/{name}"
    for name in (
        "core",
        "tileset",
        "tilesets-list",
        "geodata-tilesets",
        "dataset-tilesets",
        "geodata-selection",
        "oas30",
        "mvt",
    )
]
SUFFIXES = (".mvt", ".pbf")


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
                        "href": f"{base_url(request)}/tileMatrixSets/{tms_id}",
                    }
                ],
            }
            for tms_id in SERVED
        ]
    }


@router.get("/tileMatrixSets/{tms_id}", summary="One tile matrix set (OGC TMS 2.0)")
async def tile_matrix_set(
    tms_id: str,
    compat: str | None = Query(
        default=None, pattern="^tms1$", description="tms1: add the TMS 1.0 members (for GDAL before 3.7)."
    ),
) -> dict[str, Any]:
    return definition(tms_id, with_tms1=compat == "tms1")


async def _layer(db: RequestConnection, service: TileService, layer_id: str, who: Principal) -> Layer:
    if service.catalog.loaded:  # the hot path of a cached tile: no database connection at all
        return await service.catalog.get(None, layer_id, who)
    return await service.catalog.get(await db.get(), layer_id, who)


def tiling_scheme(request: Request, tms_id: str) -> str:
    """A tileset's link to its tile matrix set: the definition readable by GDAL 3.6 as well (see
    ``tiles.tms.definition``), since GDAL follows this link and no other."""
    return f"{base_url(request)}/tileMatrixSets/{tms_id}?compat=tms1"


def ogc_template(xyz: str) -> str:
    """A tile URL template in OGC API - Tiles' variables, for tileset documents (TileJSON keeps {z}/{x}/{y}):
    the path is zoom, column, row, as XYZ clients expect, and the variable names say so to OGC clients."""
    return xyz.replace("{z}/{x}/{y}", "{tileMatrix}/{tileCol}/{tileRow}")


def tile_matrix_set_limits(tms_id: str, min_zoom: int, max_zoom: int) -> list[dict[str, Any]]:
    """The tiles that hold data at each zoom a tileset serves, over the bounds its TileJSON declares: clients
    (GDAL, QGIS) read these instead of probing the whole world for tiles."""
    tms = get_tms(tms_id)
    limits = []
    for zoom in range(max(tms.minzoom, min_zoom), min(tms.maxzoom, max_zoom) + 1):
        xmin, ymin, xmax, ymax = tile_ranges(tms, tuple(DEFAULT_BOUNDS), zoom)  # type: ignore[arg-type]
        limits.append(
            {"tileMatrix": str(zoom), "minTileRow": ymin, "maxTileRow": ymax, "minTileCol": xmin,
             "maxTileCol": xmax}
        )
    return limits


def _tileset(request: Request, layer: Layer, tms_id: str) -> dict[str, Any]:
    tms = get_tms(tms_id)
    raster = layer.kind == "raster"
    return {
        "title": f"{layer.title} ({tms_id})",
        "dataType": "map" if raster else "vector",
        "crs": str(tms.crs.root) if hasattr(tms.crs, "root") else str(tms.crs),
        "tileMatrixSetURI": tms.uri,
        "tileMatrixSetLimits": tile_matrix_set_limits(tms_id, layer.min_zoom, layer.max_zoom),
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{base_url(request)}/collections/{layer.id}/tiles/{tms_id}",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "type": "application/json",
                "href": tiling_scheme(request, tms_id),
            },
            {
                "rel": "item",
                "templated": True,
                "type": "image/png" if raster else MVT,
                "href": ogc_template(collection_template(request, layer.id, tms_id)),
            },
            {
                "rel": "describedby",
                "type": "application/json",
                "href": f"{base_url(request)}/collections/{layer.id}/tiles/{tms_id}/tilejson.json",
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
                "href": f"{base_url(request)}/collections/{layer_id}/tiles",
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
        # One semver for the whole tileset: every edit of any of its layers bumps a layer version, and so this
        # minor version (TileJSON: "when changes across tiles are introduced the minor version MUST change").
        "version": f"1.{sum(layer.version for layer in layers)}.0",
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


# The suffixed routes come first: the plain route's {y} would take "7129.mvt" and refuse it as no integer.
# They have names of their own, so that url_path_for("layer_tile") still gives the plain path (the viewer
# checks it to know the tiles are served).
@router.get(
    "/collections/{layer_id}/tiles/{tms_id}/{z}/{x}/{y}",
    summary="A tile of a layer",
    responses={200: {"content": {MVT: {}, "image/png": {}, "image/webp": {}}}, 304: {}, 204: {}},
)
@router.get("/collections/{layer_id}/tiles/{tms_id}/{z}/{x}/{y}.mvt", include_in_schema=False, name="layer_tile_mvt")
@router.get("/collections/{layer_id}/tiles/{tms_id}/{z}/{x}/{y}.pbf", include_in_schema=False, name="layer_tile_pbf")
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
    if layer.kind == "raster" and request.url.path.endswith(SUFFIXES):
        raise InvalidTileRequest(f"layer {layer_id!r} is a raster layer: its tiles are images, not vector tiles")
    if layer.kind != "raster" and not layer.min_zoom <= z <= layer.max_zoom:
        return Response(status_code=204)
    look = Look(style, f.lower())
    tile = await service.tile([layer], who, query, address, look, db.use)
    return tile_response(request, tile, service.media_type([layer], look), who)


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


def _dataset_tileset(request: Request, layers: list[Layer], tms_id: str) -> dict[str, Any]:
    tms = get_tms(tms_id)
    root = base_url(request)
    return {
        "title": f"onemap ({tms_id})",
        "dataType": "vector",
        "crs": str(tms.crs.root) if hasattr(tms.crs, "root") else str(tms.crs),
        "tileMatrixSetURI": tms.uri,
        "tileMatrixSetLimits": tile_matrix_set_limits(
            tms_id, min(layer.min_zoom for layer in layers), max(layer.max_zoom for layer in layers)
        ),
        "links": [
            link(f"{root}/tiles/{tms_id}", "self"),
            link(tiling_scheme(request, tms_id), "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"),
            {"rel": "item", "templated": True, "type": MVT, "href": ogc_template(multi_template(request, tms_id))},
            link(f"{root}/tiles/{tms_id}/tilejson.json", "describedby"),
        ],
        "layers": [
            {"id": layer.id, "dataType": "vector", "minTileMatrix": str(layer.min_zoom),
             "maxTileMatrix": str(layer.max_zoom),
             "links": [link(f"{root}/collections/{layer.id}", "collection", JSON, layer.title)]}
            for layer in layers
        ],
    }


@router.get(
    "/tiles",
    summary="The dataset's vector tilesets (every layer, or ?collections=, in one tile)",
    responses={404: {"description": "A layer named in collections= does not exist (or is hidden from you)."}},
)
async def dataset_tilesets(
    request: Request, *, collections: str | None = Query(default=None), who: Who, service: Service, db: Db
) -> dict[str, Any]:
    layers = await _vector_layers(db, service, collections, who)
    if not layers:
        raise InvalidTileRequest("no vector layer to tile: name some with ?collections=")
    return {
        "links": [link(f"{base_url(request)}/tiles", "self")],
        "tilesets": [_dataset_tileset(request, layers, tms_id) for tms_id in SERVED],
    }


@router.get("/tiles/{tms_id}", summary="One vector tileset of the dataset")
async def dataset_tileset(
    request: Request,
    *,
    tms_id: str,
    collections: str | None = Query(default=None),
    who: Who,
    service: Service,
    db: Db,
) -> dict[str, Any]:
    get_tms(tms_id)
    layers = await _vector_layers(db, service, collections, who)
    if not layers:
        raise InvalidTileRequest("no vector layer to tile: name some with ?collections=")
    return _dataset_tileset(request, layers, tms_id)


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
    return tilejson(request, layers, tms_id, multi_template(request, tms_id), "onemap")


@router.get(
    "/tiles/{tms_id}/{z}/{x}/{y}",
    summary="One vector tile with several layers",
    responses={200: {"content": {MVT: {}}}, 304: {}, 204: {}},
)
@router.get("/tiles/{tms_id}/{z}/{x}/{y}.mvt", include_in_schema=False, name="multi_tile_mvt")
@router.get("/tiles/{tms_id}/{z}/{x}/{y}.pbf", include_in_schema=False, name="multi_tile_pbf")
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
    return tile_response(request, await service.tile(layers, who, query, address, connect=db.use), MVT, who)
