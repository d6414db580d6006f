"""The layer catalog: what a layer is, who may read or edit it, read from the ``layer`` table.

A layer's rows come from one relation of schema ``onemap`` (``source``), optionally narrowed by equality filters
(``source_filter``), e.g. the ``grids`` layer is ``admin_area`` where ``level = 'grid'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from layers.access import ADMIN, Principal
from layers.errors import LayerForbidden, LayerNotFound
from spatial.schema import layer as layer_table


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


def _row_to_layer(row: sa.Row[Any]) -> Layer:
    return layer_from_mapping(row._mapping)


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
        raise LayerForbidden(f"your key (role {who.role}) may not read collection {layer_id!r}")
    return layer


def list_layers(conn: sa.Connection, who: Principal | None = None) -> list[Layer]:
    rows = conn.execute(sa.select(layer_table).order_by(layer_table.c.id)).all()
    layers = [_row_to_layer(r) for r in rows]
    return [lyr for lyr in layers if who is None or lyr.can_read(who)]


def get_layer(conn: sa.Connection, layer_id: str, who: Principal | None = None) -> Layer:
    row = conn.execute(sa.select(layer_table).where(layer_table.c.id == layer_id)).first()
    found = _row_to_layer(row) if row is not None else None
    return require_readable(found, layer_id, who or ADMIN)  # no caller: an internal lookup
