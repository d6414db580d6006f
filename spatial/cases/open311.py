"""Open311 GeoReport v2 at the edge: services are the case categories offered to hotline systems, service
requests are cases reported through it. The web layer renders JSON or XML; the rules live here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.cases.routing import Routing
from spatial.cases.sql import read_case_sql
from spatial.errors import InvalidInput

MAX_REQUESTS = 1000  # the spec's ceiling for one GET requests
DEFAULT_DAYS = 90  # without dates, the spec asks for the last 90 days


def services(routing: Routing) -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.name,
            "service_name": c.title,
            "description": c.title,
            "metadata": False,
            "type": "realtime",
            "keywords": c.name.replace("_", ","),
            "group": c.department,
        }
        for c in routing.categories.values()
        if c.open311
    ]


def submission_key(fields: dict[str, Any]) -> str:
    """An idempotency key for a submission that brings none: the same fields resent are the same request."""
    canonical = json.dumps(
        {k: v for k, v in sorted(fields.items()) if v not in (None, "")}, ensure_ascii=False
    )
    return "open311:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RequestQuery:
    ids: list[int] | None = None
    codes: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    closed: bool | None = None
    all_sources: bool = False
    limit: int = MAX_REQUESTS


def parse_query(
    service_request_id: str | None,
    service_code: str | None,
    start: str | None,
    end: str | None,
    status: str | None,
) -> RequestQuery:
    ids = None
    if service_request_id:
        try:
            ids = [int(part) for part in service_request_id.split(",") if part.strip()]
        except ValueError:
            raise InvalidInput(
                "service_request_id: give request ids separated by commas, e.g. 12,15"
            ) from None
    codes = [c.strip() for c in service_code.split(",") if c.strip()] if service_code else None
    start_at, end_at = _date("start_date", start), _date("end_date", end)
    if start_at and end_at and start_at > end_at:
        raise InvalidInput("start_date is after end_date")
    if start_at is None and end_at is None and ids is None:
        start_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=DEFAULT_DAYS)
    closed = None
    if status:
        wanted = {s.strip() for s in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise InvalidInput("status: use open, closed or open,closed")
        closed = None if len(wanted) == 2 else "closed" in wanted
    return RequestQuery(ids, codes, start_at, end_at, closed)


def _date(name: str, text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}: use ISO 8601 with a time zone, e.g. 2026-05-01T08:00:00+08:00") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name}: include the time zone (Z or +08:00), as GeoReport v2 requires")
    return value


async def service_requests(conn: AsyncConnection[Any], query: RequestQuery) -> list[dict[str, Any]]:
    params = {**query.__dict__}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_case_sql("open311_requests.sql"), params)
        return await cursor.fetchall()
