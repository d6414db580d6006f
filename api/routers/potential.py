"""``/analysis/economic-potential``: business floor space without registered enterprises, by street or
community."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from psycopg import AsyncConnection

from api.db import connection
from api.deps import require_role
from layers.access import Principal
from spatial.potential import potential_by_area

router = APIRouter(prefix="/analysis", tags=["Analysis"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Internal = Annotated[Principal, Depends(require_role("admin", "planner", "department_editor", "grid_worker"))]


@router.get("/economic-potential", summary="Economic potential by street or community (GeoJSON)")
async def economic_potential(
    conn: Conn,
    who: Internal,
    level: Annotated[str, Query(pattern="^(street|community)$")] = "street",
) -> dict[str, Any]:
    return await potential_by_area(conn, level)
