"""A figure's scope: the district, a street, a community or a grid, narrowed to the grids a caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.errors import NotFound
from spatial.kpis.errors import OutsideScope
from spatial.kpis.sql import read_kpi_sql
from spatial.schema import ADMIN_LEVELS


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    parent_code: str | None
    parent_name: str | None
    bounds: tuple[float, float, float, float] | None


@dataclass(frozen=True)
class Scope:
    area: Area
    grids: tuple[str, ...]
    areas: tuple[str, ...]  # for each grid, the child area it rolls up to
    names: dict[str, str]  # child area code -> name

    @property
    def child_level(self) -> str:
        index = ADMIN_LEVELS.index(self.area.level)
        return ADMIN_LEVELS[min(index + 1, len(ADMIN_LEVELS) - 1)]


async def resolve_scope(
    conn: AsyncConnection[Any], code: str | None, allowed_grids: Sequence[str] | None = None
) -> Scope:
    """The scope of admin area `code` (the district when None). `allowed_grids` (None: all) are the only grids a
    scoped caller covers: a scope reaching beyond them is refused."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_kpi_sql("target.sql"), {"code": code})
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(
                f"no admin area {code!r}: use a street, community or grid code, or none for the district"
            )
        await cursor.execute(read_kpi_sql("scope.sql"), {"level": row["level"], "code": row["code"]})
        members = await cursor.fetchall()
    if allowed_grids is not None and not {m["grid_code"] for m in members} <= set(allowed_grids):
        raise OutsideScope(f"admin area {row['code']} reaches beyond the area your key covers")
    bounds = (row["west"], row["south"], row["east"], row["north"]) if row["west"] is not None else None
    area = Area(row["code"], row["name"], row["level"], row["parent_code"], row["parent_name"], bounds)
    return Scope(
        area,
        tuple(m["grid_code"] for m in members),
        tuple(m["area_code"] for m in members),
        {m["area_code"]: m["area_name"] for m in members},
    )
