"""Who runs an analysis, and what that changes: grid workers see their grid only; personal fields are masked
unless the viewer may see them; the public sees no person, enterprise or event data at all.

``Viewer`` is structural so that ``layers.access.Principal`` fits it without the spatial core importing
``layers`` (dependencies point one way: layers -> spatial).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from spatial.errors import Forbidden


class Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def grid_code(self) -> str | None: ...

    @property
    def sees_personal_data(self) -> bool: ...


@dataclass(frozen=True)
class Analyst:
    """A viewer for scripts run by the platform's own staff (full access), like ``layers.access.ADMIN``."""

    role: str = "admin"
    grid_code: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        return self.role == "admin"


ANALYST = Analyst()


def require_internal(viewer: Viewer, what: str) -> None:
    if viewer.role == "public":
        raise Forbidden(f"{what} needs an internal role; the public sees only buildings and terrain")


def scope_params(viewer: Viewer) -> dict[str, Any]:
    """Bound parameters every analysis query takes: the grid row filter and whether to unmask."""
    if viewer.role in ("community_operator", "street_operator"):
        # analyses narrow to one grid only; an operator's several grids would see the district
        raise Forbidden(f"analyses are not open to the {viewer.role} role: its figures are at /kpis")
    grid = viewer.grid_code if viewer.role == "grid_worker" else None
    if viewer.role == "grid_worker" and not grid:
        raise Forbidden("a grid worker's key must name a grid")
    return {"scope_grid": grid, "unmasked": bool(viewer.sees_personal_data)}
