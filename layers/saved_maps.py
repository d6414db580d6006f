"""Saved one-map modes (一张图): a department, a planner or an admin saves layers, styles, filters, a view and
an "as of", and shares it with roles and departments. This module decides who may save and read one and checks
a definition against the catalog; the rows live in ``saved_map``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layers.access import ROLES, Principal
from layers.catalog import Layer
from layers.query.cql import parse_filter
from layers.query.selection import Filters, select_features
from layers.query.temporal import parse_as_of
from spatial.errors import Forbidden, InvalidInput, NotFound
from spatial.schema import DEPARTMENTS

SAVERS = ("admin", "planner", "department_editor")
MAX_LAYERS = 20


@dataclass(frozen=True)
class MapDefinition:
    layers: list[str]
    styles: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer -> viewer style spec
    filters: dict[str, str] = field(default_factory=dict)  # layer -> CQL2 text
    view: dict[str, Any] | None = None  # {"bbox": [w, s, e, n]}
    as_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "styles": self.styles,
            "filters": self.filters,
            "view": self.view,
            "as_of": self.as_of,
        }


def require_saver(who: Principal) -> None:
    if who.role not in SAVERS:
        raise Forbidden(f"maps are saved by {', '.join(SAVERS)}; your key has role {who.role!r}")


def check_definition(definition: MapDefinition, readable: dict[str, Layer]) -> None:
    """Every layer readable by the saver, every style and filter for one of them, filters valid CQL2 over the
    layer's properties, the view a lon/lat box, "as of" a date or an instant."""
    if not 1 <= len(definition.layers) <= MAX_LAYERS:
        raise InvalidInput(f"a saved map has 1 to {MAX_LAYERS} layers")
    unknown = [name for name in definition.layers if name not in readable]
    if unknown:
        raise InvalidInput(
            f"no readable layer {', '.join(unknown)}: GET /collections lists the layers you may read"
        )
    for kind, entries in (("style", definition.styles), ("filter", definition.filters)):
        stray = [name for name in entries if name not in definition.layers]
        if stray:
            raise InvalidInput(f"a {kind} for {', '.join(stray)}, which is not among the map's layers")
    for name, text in definition.filters.items():
        select_features(readable[name], Principal("admin"), Filters(cql2=parse_filter(text)))
    if definition.view is not None:
        box = definition.view.get("bbox")
        valid = (
            isinstance(box, list)
            and len(box) == 4
            and all(isinstance(v, (int, float)) for v in box)
            and -180 <= box[0] < box[2] <= 180
            and -90 <= box[1] < box[3] <= 90
        )
        if not valid:
            raise InvalidInput(
                "view.bbox is [west, south, east, north] in degrees, west < east, south < north"
            )
    if definition.as_of is not None:
        parse_as_of(definition.as_of)  # InvalidInput says how to write it


def check_sharing(roles: list[str], departments: list[str]) -> None:
    bad_roles = [r for r in roles if r not in ROLES or r == "public"]
    if bad_roles:
        raise InvalidInput(
            f"cannot share with {', '.join(bad_roles)}: use internal roles ({', '.join(ROLES[:-1])})"
        )
    bad = [d for d in departments if d not in DEPARTMENTS]
    if bad:
        raise InvalidInput(f"unknown department {', '.join(bad)}: use one of {', '.join(DEPARTMENTS)}")


def may_read(row: dict[str, Any], who: Principal) -> bool:
    """The owner, admins, the roles it is shared with, and editors of the departments it is shared with."""
    if who.role == "admin" or row["owner"] == who.actor:
        return True
    if who.role in row["shared_roles"]:
        return True
    return who.role == "department_editor" and who.department in row["shared_departments"]


def require_readable(row: dict[str, Any] | None, map_id: int, who: Principal) -> dict[str, Any]:
    if row is None or not may_read(row, who):
        # a map not shared with the caller is not revealed
        raise NotFound(f"no saved map {map_id} shared with your key: GET /maps lists those you may open")
    return row
