"""MapLibre GL styles (version 8): one per layer, and one for the whole map, on WebMercatorQuad tiles.

/collections/{id}/styles/maplibre.json      the layer alone
/styles/onemap.json                         every layer the caller may read (rasters below, points on top):
                                            one vector source (the multi-layer tile), one source per raster

Colours come from ``layers.drawing``, as in the Folium viewer: both read each layer's stored classes.

Styles carry no key, whoever asks: a client whose layers need one sends it as a header on every tile request,
e.g. MapLibre's ``transformRequest: (url) => ({url, headers: {"X-API-Key": key}})`` (CORS allows the header).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from psycopg import AsyncConnection

from api.db import Db
from api.deps import get_principal
from api.routers.ogc_common import base_url
from api.routers.tile_http import collection_template, get_tile_service
from layers.access import Principal
from layers.catalog import Layer
from layers.drawing import layer_spec, maplibre_layers
from tiles.service import TileService
from tiles.vector import geometry_type

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["styles"])
ORDER = {"raster": 0, "POLYGON": 1, "LINE": 2, "POINT": 3}
VECTOR_SOURCE = "onemap"  # the whole map's one vector source: every vector layer in each tile
MAX_SOURCE_ZOOM = 16  # past it MapLibre overzooms (z16 tiles hold every vertex a street map shows)


def style_layers(layer: Layer, kind: str, source: str | None = None) -> list[dict[str, Any]]:
    """MapLibre layers drawing ``layer`` (source-layer = layer id) from source ``source`` (default: the layer
    id) with the same spec as the Folium viewer (``layers.drawing.layer_spec``: the layer's stored classes, or
    the built-in defaults)."""
    zooms = {"minzoom": layer.min_zoom, "maxzoom": layer.max_zoom + 1}
    if kind == "raster":
        return [
            {"id": layer.id, "type": "raster", "source": layer.id, **zooms, "paint": {"raster-opacity": 0.8}}
        ]
    spec = {**layer_spec(layer), "geometry": kind.lower()}  # the data's geometry decides circle, line or fill
    return maplibre_layers(spec, layer.id, source or layer.id, layer.id, **zooms)


async def _kind(conn: AsyncConnection[Any], layer: Layer) -> str:
    if layer.kind == "raster":
        return "raster"
    found = await geometry_type(conn, layer)
    return next((k for k in ("POLYGON", "LINE", "POINT") if k in found), "POLYGON")


def _source(request: Request, layer: Layer) -> dict[str, Any]:
    template = collection_template(request, layer.id, "WebMercatorQuad", keep_key=False)
    if layer.kind == "raster":
        return {
            "type": "raster",
            "tiles": [template],
            "tileSize": 256,
            "minzoom": layer.min_zoom,
            "maxzoom": layer.max_zoom,
        }
    return {
        "type": "vector",
        "tiles": [template],
        "minzoom": layer.min_zoom,
        "maxzoom": min(layer.max_zoom, MAX_SOURCE_ZOOM),
    }


def _vector_source(request: Request, layers: list[Layer]) -> dict[str, Any]:
    """All vector ``layers`` from one multi-layer tile per address: a map of ten layers makes one request per
    tile instead of ten (``/tiles/{tms}/{z}/{x}/{y}?collections=``, which leaves out layers outside their zooms)."""
    names = ",".join(layer.id for layer in layers)
    return {
        "type": "vector",
        "tiles": [f"{base_url(request)}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?collections={names}"],
        "minzoom": min(layer.min_zoom for layer in layers),
        "maxzoom": min(max(layer.max_zoom for layer in layers), MAX_SOURCE_ZOOM),
    }


def _style(name: str, sources: dict[str, Any], layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 8,
        "name": name,
        "center": [114.25, 22.72],
        "zoom": 11,
        "sources": sources,
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#f4f4f0"}},
            *layers,
        ],
    }


@router.get("/collections/{layer_id}/styles/maplibre.json", summary="MapLibre style of one layer")
async def layer_style(
    request: Request, *, layer_id: str, who: Who, service: Service, db: Db
) -> dict[str, Any]:
    conn = await db.get()
    layer = await service.catalog.get(conn, layer_id, who)
    return _style(
        layer.title, {layer.id: _source(request, layer)}, style_layers(layer, await _kind(conn, layer))
    )


@router.get("/styles/onemap.json", summary="MapLibre style of the whole map")
async def map_style(request: Request, *, who: Who, service: Service, db: Db) -> dict[str, Any]:
    conn = await db.get()
    layers = await service.catalog.readable(conn, who)
    kinds = {layer.id: await _kind(conn, layer) for layer in layers}
    ordered = sorted(layers, key=lambda layer: (ORDER[kinds[layer.id]], layer.min_zoom))
    drawn = [style for layer in ordered for style in style_layers(layer, kinds[layer.id], VECTOR_SOURCE)]
    sources = {layer.id: _source(request, layer) for layer in ordered if layer.kind == "raster"}
    vectors = [layer for layer in ordered if layer.kind != "raster"]
    if vectors:
        sources[VECTOR_SOURCE] = _vector_source(request, vectors)
    return _style("onemap", sources, drawn)
