"""Economic potential: buildings with business floor space and few or no registered enterprises, by area."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.errors import InvalidInput
from spatial.potential.sql import read_sql

LEVELS = ("street", "community")


async def potential_by_area(conn: AsyncConnection[Any], level: str = "street") -> dict[str, Any]:
    """A GeoJSON FeatureCollection of streets or communities ranked by potential floor space (m2)."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}: use street or community")
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sql("by_area.sql"), {"level": level})
        rows = await cursor.fetchall()
    features = [
        {"type": "Feature", "id": row["code"], "geometry": row.pop("geometry"), "properties": row}
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def view_sql() -> str:
    return read_sql("view.sql")
