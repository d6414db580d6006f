"""The layer catalog for async request handlers (``layers.catalog`` holds the rules; this only reads rows)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from layers.access import Principal
from layers.catalog import Layer, layer_from_mapping
from layers.errors import LayerForbidden, LayerNotFound

_ONE = "SELECT * FROM onemap.layer WHERE id = %(id)s"
_ALL = "SELECT * FROM onemap.layer WHERE kind <> 'raster' ORDER BY id"


async def readable_layers(conn: AsyncConnection[Any], who: Principal) -> list[Layer]:
    cursor = await conn.execute(_ALL)
    layers = [layer_from_mapping(row) for row in await cursor.fetchall()]
    return [layer for layer in layers if layer.can_read(who)]


async def readable_layer(conn: AsyncConnection[Any], layer_id: str, who: Principal) -> Layer:
    cursor = await conn.execute(_ONE, {"id": layer_id})
    row = await cursor.fetchone()
    missing = f"no collection {layer_id!r}: GET /collections lists the collections your key may read"
    if row is None or row["kind"] == "raster":
        raise LayerNotFound(missing)
    layer = layer_from_mapping(row)
    if not layer.can_read(who):
        if who.role == "public":  # do not reveal internal layers to anonymous callers
            raise LayerNotFound(missing)
        raise LayerForbidden(f"your key (role {who.role}) may not read collection {layer_id!r}")
    return layer
