"""Verification issues for people: a masked page of them, and deciding one (confirm / dismiss) with a note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.errors import InvalidInput
from spatial.fusion.sql import read_sql
from spatial.fusion.statements import statements

DECISIONS = {"confirm": "confirmed", "dismiss": "dismissed"}


@dataclass(frozen=True)
class IssueFilter:
    grid: str | None = None
    status: str | None = None
    entity_kind: str | None = None
    attribute: str | None = None
    building: str | None = None
    limit: int = 50
    offset: int = 0
    unmasked: bool = False


async def issues_page(conn: AsyncConnection[Any], where: IssueFilter) -> tuple[list[dict[str, Any]], int]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sql("issues_page.sql"), dict(where.__dict__))
        rows = await cursor.fetchall()
    matched = int(rows[0]["matched"]) if rows else 0
    return [{k: v for k, v in row.items() if k != "matched"} for row in rows], matched


async def decide_issue(
    conn: AsyncConnection[Any],
    issue_id: int,
    decision: str,
    note: str,
    actor: str,
    grid: str | None = None,
    department: str | None = None,
) -> dict[str, Any] | None:
    """The decided issue, or None when no open issue with that id is in the caller's scope."""
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}: use confirm or dismiss")
    set_actor, update = statements(read_sql("decide_issue.sql"))
    params = {
        "id": issue_id,
        "status": DECISIONS[decision],
        "note": note,
        "actor": actor,
        "grid": grid,
        "department": department,
    }
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(set_actor, params)
        await cursor.execute(update, params)
        return await cursor.fetchone()
