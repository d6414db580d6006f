"""The rules in force: packaged routing with the database's overrides, and the working calendar with the
configured days. Read per use (two small tables), so an administrator's change applies at once in every worker."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.cases.calendar import WorkingCalendar, parse_hours
from spatial.cases.routing import ROUTES_SQL, Routing, packaged_routing, with_overrides
from spatial.cases.settings import get_case_settings
from spatial.cases.sql import read_case_sql


@dataclass(frozen=True)
class CaseRules:
    routing: Routing
    calendar: WorkingCalendar

    def due(
        self, category: str, state: str, start: dt.datetime, route_limits: dict[str, float] | None = None
    ) -> dt.datetime | None:
        """When a case entering `state` at `start` must have left it; None for states without a limit."""
        hours = (route_limits or {}).get(state) or self.routing.limit(category, state)
        return None if hours is None else self.calendar.add(start, hours)

    def dues_param(self, state: str, start: dt.datetime) -> dict[str, str]:
        """{category: due} for many cases entering `state` at once (district-wide limits)."""
        dues = {}
        for name in self.routing.categories:
            due = self.due(name, state, start)
            if due is not None:
                dues[name] = due.isoformat()
        return dues


def _build(routes: list[dict[str, Any]], days: list[dict[str, Any]]) -> CaseRules:
    settings = get_case_settings()
    calendar = WorkingCalendar(
        parse_hours(settings.working_hours),
        ZoneInfo(settings.timezone),
        {d["day"]: d["working"] for d in days},
    )
    return CaseRules(with_overrides(packaged_routing(), routes), calendar)


async def load_rules(conn: AsyncConnection[Any]) -> CaseRules:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(ROUTES_SQL)
        routes = await cursor.fetchall()
        await cursor.execute(read_case_sql("calendar.sql"))
        days = await cursor.fetchall()
    return _build(routes, days)


def load_rules_sync(conn: psycopg.Connection) -> CaseRules:
    with conn.cursor(row_factory=dict_row) as cursor:
        routes = cursor.execute(ROUTES_SQL).fetchall()
        days = cursor.execute(read_case_sql("calendar.sql")).fetchall()
    return _build(routes, days)
