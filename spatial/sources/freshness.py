"""What arrived for each data item, against what its frequency promises: last delivery, records, the next
delivery expected, overdue or not. Read on the web server's pool (async)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.schema import DEPARTMENTS
from spatial.sources.errors import SourceRefused
from spatial.sources.sql import read_sources_sql
from spatial.sources.vocabulary import DEPARTMENT_NAMES, FREQUENCIES


def freshness(frequency: str, last: datetime | None, now: datetime) -> dict[str, Any]:
    interval = FREQUENCIES.get(frequency, FREQUENCIES["daily"])[0]
    if last is None:
        return {"last_delivery": None, "expected_next": None, "overdue": True, "state": "never delivered"}
    expected = last + interval
    overdue = expected < now
    return {
        "last_delivery": last.isoformat(),
        "expected_next": expected.isoformat(),
        "overdue": overdue,
        "state": "overdue" if overdue else "fresh",
    }


def shape_item(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    item = {
        k: row[k]
        for k in (
            "id",
            "system_name",
            "name",
            "entity_kind",
            "authoritative_for",
            "verifies",
            "frequency",
            "format",
            "contact",
        )
    }
    item["freshness"] = {
        **freshness(row["frequency"], row["last_delivery"], now),
        "records": int(row["records"]),
        "deliveries": int(row["deliveries"]),
    }
    if row["pull_kind"]:
        item["pull"] = {"kind": row["pull_kind"], "mark": row["pull_mark"], **(row["pull_state"] or {})}
    return item


def check_department(department: str) -> str:
    if department not in DEPARTMENTS:
        raise SourceRefused(f"unknown department {department!r}: use one of {', '.join(DEPARTMENTS)}")
    return department


async def item_rows(conn: AsyncConnection[Any], department: str | None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sources_sql("items.sql"), {"department": department})
        return await cursor.fetchall()


async def catalogue_overview(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    """Per department: its data items with their freshness."""
    now = datetime.now(UTC)
    by_department: dict[str, list[dict[str, Any]]] = {}
    for row in await item_rows(conn, None):
        by_department.setdefault(row["department"], []).append(shape_item(row, now))
    return [
        {
            "department": d,
            "name": DEPARTMENT_NAMES[d][0],
            "items": items,
            "overdue": sum(1 for i in items if i["freshness"]["overdue"]),
        }
        for d, items in sorted(by_department.items())
    ]


async def department_catalogue(conn: AsyncConnection[Any], department: str) -> dict[str, Any]:
    """One department's three lists, and each system's data items with their freshness."""
    check_department(department)
    now = datetime.now(UTC)
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sources_sql("lists.sql"), {"department": department})
        lists = await cursor.fetchone()
    assert lists is not None
    items = [shape_item(row, now) for row in await item_rows(conn, department)]
    systems = [{**s, "items": [i for i in items if i["system_name"] == s["name"]]} for s in lists["systems"]]
    return {
        "department": department,
        "name": DEPARTMENT_NAMES[department][0],
        "functions": lists["functions"],
        "matters": lists["matters"],
        "systems": systems,
    }
