"""The community workspace's data ("data returns home", 数据回家): its buildings with their files, residents
masked as the caller's role requires, open warnings and cases, door-access anomalies, pending declarations, grid
workers' tasks (a case or a check given to the workers of one of its grids, then marked done by them), and the
same as an xlsx workbook. Every query is narrowed to the grids of the community the caller covers."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from layers.access import Principal
from layers.screens.sql import read_screen_sql
from spatial.beijing_time import BEIJING
from spatial.door_access.rules import DOOR_RULES
from spatial.errors import Forbidden, InvalidInput, NotFound
from spatial.schema import TASK_KINDS


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    sql_file: str
    personal: bool = False  # holds personal fields (masked unless the caller sees personal data)
    requires: str | None = None  # a layer the caller must read


SECTIONS = (
    Section("buildings", "楼栋 Buildings", "buildings.sql", requires="buildings"),
    Section("residents", "居民 Residents", "residents.sql", personal=True, requires="buildings"),
    Section("enterprises", "企业 Enterprises", "enterprises.sql", requires="enterprises"),
    Section("warnings", "预警与事件 Warnings and events", "warnings.sql", requires="events"),
    Section("cases", "在办工单 Open cases", "cases.sql", requires="cases"),
    Section(
        "declarations",
        "待落地申报 Pending declarations",
        "declarations.sql",
        personal=True,
        requires="buildings",
    ),
    Section("tasks", "网格任务 Tasks", "tasks.sql", requires="events"),
    Section("door_access", "门禁异常 Door-access anomalies", "door_anomalies.sql", requires="events"),
)
TASK_ASSIGNERS = ("admin", "community_operator", "street_operator")


def community_grids(who: Principal, grids: Sequence[str]) -> list[str]:
    """The community's grids the caller may see: all for unscoped roles, theirs for scoped ones; refused when
    none (another community's workspace)."""
    visible = [g for g in grids if who.covers_grid(g)]
    if not visible:
        raise Forbidden(
            f"this community lies outside {who.visibility_class}, the only area your key covers"
        )
    return visible


def sections_for(readable: set[str]) -> list[Section]:
    return [s for s in SECTIONS if s.requires is None or s.requires in readable]


async def section_rows(
    conn: AsyncConnection[Any], section: Section, grids: list[str], who: Principal, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    params = {
        "grids": grids,
        "unmasked": who.sees_personal_data,
        "limit": limit,
        "door_rules": list(DOOR_RULES),
    }
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_screen_sql(section.sql_file), params)
        rows = await cursor.fetchall()
    matched = int(rows[0]["matched"]) if rows else 0
    return [{k: v for k, v in row.items() if k != "matched"} for row in rows], matched


async def assign_task(
    conn: AsyncConnection[Any],
    who: Principal,
    grids: list[str],
    grid: str,
    kind: str,
    subject: str,
    note: str,
) -> dict[str, Any]:
    """A task for the grid worker(s) of `grid`, one of the community's `grids`. Run inside a transaction."""
    if who.role not in TASK_ASSIGNERS:
        raise Forbidden(
            f"tasks are given by {', '.join(TASK_ASSIGNERS)}; your key has role {who.role!r}"
        )
    if grid not in grids:
        raise InvalidInput(f"grid {grid!r} is not a grid of this community: use one of {', '.join(grids)}")
    if kind not in TASK_KINDS:
        raise InvalidInput(f"unknown task kind {kind!r}: use one of {', '.join(TASK_KINDS)}")
    params = {"grid": grid, "kind": kind, "subject": subject, "note": note, "actor": who.actor}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_screen_sql("task_subject.sql"), params)
        found = await cursor.fetchone()
        if not found or not found["found"]:
            what = {"check": "a building code", "case": "an open case's id"}.get(kind, "an event id")
            raise InvalidInput(f"the subject of a {kind} task is {what} of grid {grid}: {subject!r} is not")
        await cursor.execute(read_screen_sql("task_insert.sql"), params)
        row = await cursor.fetchone()
    assert row is not None  # INSERT ... RETURNING
    return row


async def grid_workers(conn: AsyncConnection[Any], grids: list[str]) -> list[dict[str, Any]]:
    """The keys a case task can go to: the grid workers of these grids (id, label, grid_code)."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_screen_sql("grid_workers.sql"), {"grids": grids})
        return list(await cursor.fetchall())


async def finish_task(conn: AsyncConnection[Any], who: Principal, task_id: int, note: str) -> dict[str, Any]:
    """A grid worker marks a task of their grid done. Run inside a transaction."""
    if who.role != "grid_worker":
        raise Forbidden("a task is marked done by the grid worker it was given to")
    params = {"id": task_id, "grids": list(who.grids), "note": note, "actor": who.actor}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_screen_sql("task_done.sql"), params)
        row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"no open task {task_id} in your grid")
    return row


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(BEIJING).replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        return str(value)
    return value


def workbook(sheets: dict[str, list[dict[str, Any]]], note: str) -> bytes:
    """An xlsx workbook, one sheet per section (header row from the columns), and a sheet saying what it is."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    about = book.create_sheet("说明 about")
    about.append([note])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name[:31])
        if rows:
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append([_cell(v) for v in row.values()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
