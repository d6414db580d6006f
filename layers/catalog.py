"""The layer catalog: what a layer is, who may read or edit it, read from the ``layer`` table (the one reader:
sync for the CLI and synchronous routes, async for request handlers and the tile server's cached copy).

A layer's rows come from one relation of schema ``onemap`` (``source``), optionally narrowed by equality filters
(``source_filter``), e.g. the ``grids`` layer is ``admin_area`` where ``level = 'grid'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import AsyncConnection

from layers.access import ADMIN, Principal
from layers.errors import LayerNotFound
from spatial.database import engine_for
from spatial.errors import Forbidden

_ALL = "SELECT * FROM onemap.layer ORDER BY id"
_ONE = "SELECT * FROM onemap.layer WHERE id = %(id)s"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # "string" | "integer" | "number" | "boolean" | "date" | "datetime"
    title: str = ""
    personal: bool = False  # masked unless the principal sees personal data
    mask: str | None = None  # "name" | "phone" | "id_number"
    # long descriptive text: in feature pages and detail tiles, left out of overview tiles
    detail: bool = False


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    owner_department: str
    source: str
    kind: str = "table"
    description: str = ""
    source_filter: dict[str, Any] = field(default_factory=dict)
    geometry_column: str = "geom"
    id_column: str = "id"
    time_field: str | None = None
    versioned: bool = False
    fields: tuple[Field, ...] = ()
    sensitivity: str = "public"  # public | internal | restricted
    editable: bool = False
    readers: tuple[str, ...] = ()  # extra departments granted read access
    editors: tuple[str, ...] = ()  # extra departments granted edit access
    style: dict[str, Any] = field(default_factory=dict)
    min_zoom: int = 0
    max_zoom: int = 22
    grid_column: str | None = None  # column holding the grid code, for grid workers' row filter
    version: int = 1

    def can_read(self, who: Principal) -> bool:
        if who.role in ("admin", "planner") or self.sensitivity == "public":
            return True  # planners read everything, with personal fields masked
        if who.role == "public":
            return False
        if who.scoped:  # grid workers, community and street operators: internal layers that record a grid
            return self.sensitivity == "internal" and self.grid_column is not None
        # department editors: their own layers, layers granted to them, and other departments' internal layers
        # only when granted.
        return who.department == self.owner_department or who.department in self.readers

    def can_edit(self, who: Principal) -> bool:
        if not self.editable:
            return False
        if who.role == "admin":
            return True
        return who.role == "department_editor" and (
            who.department == self.owner_department or who.department in self.editors
        )

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def layer_from_mapping(row: Any) -> Layer:
    """A Layer from a row of the ``layer`` table as a mapping (for async callers with their own driver)."""
    data = dict(row)
    fields = tuple(Field(**f) for f in data.pop("fields") or [])
    for unused in ("created_at", "updated_at", "update_schedule", "lineage"):
        data.pop(unused, None)
    return Layer(
        fields=fields,
        readers=tuple(data.pop("readers") or ()),
        editors=tuple(data.pop("editors") or ()),
        **data,
    )


def require_readable(layer: Layer | None, layer_id: str, who: Principal) -> Layer:
    """The one answer to "may `who` read this layer": 404 for an unknown layer, and for a public caller a hidden
    one too (its existence is not revealed); 403 for a key that may not read it."""
    if layer is None or (who.role == "public" and not layer.can_read(who)):
        raise LayerNotFound(
            f"no collection {layer_id!r}: GET /collections lists the collections your key may read"
        )
    if not layer.can_read(who):
        raise Forbidden(f"your key (role {who.role}) may not read collection {layer_id!r}")
    return layer


def require_editable(layer: Layer, who: Principal) -> Layer:
    """The one answer to "may `who` change this layer's features" (edits, restores, the edit log): 403 saying
    why not."""
    if not layer.editable:
        raise Forbidden(f"collection {layer.id!r} is read-only")
    if not layer.can_edit(who):
        raise Forbidden(
            f"your key (role {who.role}) may not edit collection {layer.id!r}: it belongs to "
            f"department {layer.owner_department}"
        )
    return layer


@contextmanager
def layer_transaction(
    url: str, layer_id: str, who: Principal | None = None
) -> Iterator[tuple[Layer, psycopg.Connection]]:
    """The layer (if `who` may read it; no one: an internal lookup) and a psycopg connection in one transaction,
    for the synchronous routes and the CLI."""
    with engine_for(url).begin() as conn:
        layer = get_layer(conn, layer_id, who)
        yield layer, cast(psycopg.Connection, conn.connection.driver_connection)


def list_layers(conn: sa.Connection, who: Principal | None = None) -> list[Layer]:
    layers = [layer_from_mapping(row) for row in conn.exec_driver_sql(_ALL).mappings()]
    return [lyr for lyr in layers if who is None or lyr.can_read(who)]


def get_layer(conn: sa.Connection, layer_id: str, who: Principal | None = None) -> Layer:
    row = conn.exec_driver_sql(_ONE, {"id": layer_id}).mappings().first()
    found = layer_from_mapping(row) if row is not None else None
    return require_readable(found, layer_id, who or ADMIN)  # no caller: an internal lookup


async def fetch_layers(conn: AsyncConnection[Any]) -> list[Layer]:
    """Every layer (a connection with dict rows, as the server's pool gives)."""
    cursor = await conn.execute(_ALL)
    return [layer_from_mapping(row) for row in await cursor.fetchall()]


async def readable_layers(conn: AsyncConnection[Any], who: Principal) -> list[Layer]:
    """The collections of features `who` may read (raster layers have no features)."""
    return [layer for layer in await fetch_layers(conn) if layer.kind != "raster" and layer.can_read(who)]


async def readable_layer(conn: AsyncConnection[Any], layer_id: str, who: Principal) -> Layer:
    cursor = await conn.execute(_ONE, {"id": layer_id})
    row = await cursor.fetchone()
    # Raster layers have no features: as collections of features they do not exist.
    layer = layer_from_mapping(row) if row is not None and row["kind"] != "raster" else None
    return require_readable(layer, layer_id, who)
