"""Warnings for grid workers: a filtered, de-identified page, and acknowledging or closing one with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.errors import InvalidInput
from spatial.fusion.statements import statements
from spatial.monitoring.sql import read_sql

ACTIONS = {"acknowledge": "acknowledged", "close": "closed"}


@dataclass(frozen=True)
class WarningFilter:
    grid: str | None = None  # forced to the grid worker's own grid by the caller
    status: str | None = None
    kind: str | None = None
    min_severity: int = 1
    since: datetime | None = None
    limit: int = 50
    offset: int = 0
    unmasked: bool = False


async def warnings_page(conn: AsyncConnection[Any], where: WarningFilter) -> tuple[list[dict[str, Any]], int]:
    """(rows, number matched) of one page."""
    params = {**where.__dict__}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sql("warnings_page.sql"), params)
        rows = await cursor.fetchall()
    matched = int(rows[0]["matched"]) if rows else 0
    return [{k: v for k, v in row.items() if k != "matched"} for row in rows], matched


async def handle_warning(
    conn: AsyncConnection[Any], event_id: int, action: str, note: str, actor: str, grid: str | None
) -> dict[str, Any] | None:
    """Acknowledge or close; None when there is no such open warning in `grid`. Run inside a transaction."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}: use acknowledge or close")
    set_actor, update, remember = statements(read_sql("warning_handle.sql"))
    params = {"id": event_id, "status": ACTIONS[action], "note": note, "actor": actor, "grid": grid}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(set_actor, params)
        await cursor.execute(update, params)
        changed = await cursor.fetchone()
        if changed is None:
            return None
        await cursor.execute(remember, params)
    return changed
