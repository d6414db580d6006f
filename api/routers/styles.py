"""MapLibre GL styles (version 8): one per layer, and one for the whole map, on WebMercatorQuad tiles.

/collections/{id}/styles/maplibre.json      the layer alone
/styles/onemap.json                         every layer the caller may read (rasters below, points on top)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from psycopg import AsyncConnection

from api.db import Db
from api.deps import get_principal
from api.routers.tile_http import get_tile_service
from api.routers.tiles import collection_template
from layers.access import Principal
from layers.catalog import Layer
from tiles.service import TileService
from tiles.vector import geometry_type

Who = Annotated[Principal, Depends(get_principal)]
Service = Annotated[TileService, Depends(get_tile_service)]
router = APIRouter(tags=["styles"])
PALETTE = {
    "streets": "#7b3294",
    "communities": "#c2a5cf",
    "grids": "#a6dba0",
    "buildings": "#e08214",
    "enterprises": "#2166ac",
    "events": "#d6604d",
    "verification_issues": "#b2182b",
}
ORDER = {"raster": 0, "POLYGON": 1, "LINE": 2, "POINT": 3}


def _colour(layer: Layer) -> str:
    return str(layer.style.get("color") or PALETTE.get(layer.id, "#3182bd"))


def style_layers(layer: Layer, kind: str) -> list[dict[str, Any]]:
    """MapLibre layers drawing ``layer`` (source id = layer id, source-layer = layer id)."""
    common = {"source": layer.id, "minzoom": layer.min_zoom, "maxzoom": layer.max_zoom + 1}
    colour = _colour(layer)
    if kind == "raster":
        return [{"id": layer.id, "type": "raster", **common, "paint": {"raster-opacity": 0.8}}]
    vector = {**common, "source-layer": layer.id}
    if kind == "POINT":
        return [
            {
                "id": layer.id,
                "type": "circle",
                **vector,
                "paint": {
                    "circle-radius": 3,
                    "circle-color": colour,
                    "circle-stroke-color": "#fff",
                    "circle-stroke-width": 0.5,
                },
            }
        ]
    if kind == "LINE":
        return [
            {"id": layer.id, "type": "line", **vector, "paint": {"line-color": colour, "line-width": 1.5}}
        ]
    return [
        {
            "id": f"{layer.id}-fill",
            "type": "fill",
            **vector,
            "paint": {"fill-color": colour, "fill-opacity": 0.35 if layer.source == "admin_area" else 0.6},
        },
        {
            "id": f"{layer.id}-outline",
            "type": "line",
            **vector,
            "paint": {"line-color": colour, "line-width": 0.8},
        },
    ]


async def _kind(conn: AsyncConnection[Any], layer: Layer) -> str:
    if layer.kind == "raster":
        return "raster"
    found = await geometry_type(conn, layer)
    return next((k for k in ("POLYGON", "LINE", "POINT") if k in found), "POLYGON")


def _source(request: Request, layer: Layer) -> dict[str, Any]:
    template = collection_template(request, layer.id, "WebMercatorQuad")
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
        "maxzoom": min(layer.max_zoom, 16),
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
    drawn = [style for layer in ordered for style in style_layers(layer, kinds[layer.id])]
    return _style("onemap", {layer.id: _source(request, layer) for layer in ordered}, drawn)
