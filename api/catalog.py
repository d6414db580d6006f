"""The layer catalog for async request handlers (``layers.catalog`` holds the rules; this only reads rows)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from layers.access import Principal
from layers.catalog import Layer, layer_from_mapping, require_readable

_ONE = "SELECT * FROM onemap.layer WHERE id = %(id)s"
_ALL = "SELECT * FROM onemap.layer WHERE kind <> 'raster' ORDER BY id"


async def readable_layers(conn: AsyncConnection[Any], who: Principal) -> list[Layer]:
    cursor = await conn.execute(_ALL)
    layers = [layer_from_mapping(row) for row in await cursor.fetchall()]
    return [layer for layer in layers if layer.can_read(who)]


async def readable_layer(conn: AsyncConnection[Any], layer_id: str, who: Principal) -> Layer:
    cursor = await conn.execute(_ONE, {"id": layer_id})
    row = await cursor.fetchone()
    # Raster layers have no features: as collections of features they do not exist.
    layer = layer_from_mapping(row) if row is not None and row["kind"] != "raster" else None
    return require_readable(layer, layer_id, who)
