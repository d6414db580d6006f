"""The change feed behind the SSE streams: rows of ``onemap.change_feed`` with what each caller may see, event
ids that say which stream they belong to, and the checks of a client's ``Last-Event-ID``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.cases.sql import read_case_sql
from spatial.errors import InvalidInput, OnemapError

STREAMS = ("cases", "warnings")
CHANNEL = "onemap_changes"
_EVENT_ID = re.compile(r"^(?P<stream>[a-z]+):(?P<id>\d{1,18})$")


class StaleEventId(OnemapError):
    """A Last-Event-ID older than the feed keeps (410): the client must reload and start afresh."""


@dataclass(frozen=True)
class FeedScope:
    """Who receives a row: a grid (grid workers), the grids of a community or street (its operators), a
    department (department editors for cases), everything."""

    grid: str | None = None
    department: str | None = None
    unmasked: bool = False
    grids: frozenset[str] | None = None

    def admits(self, row: dict[str, Any]) -> bool:
        if self.grid is not None and row["grid_code"] != self.grid:
            return False
        if self.grids is not None and row["grid_code"] not in self.grids:
            return False
        return self.department is None or row["department"] == self.department

    def shown(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row["payload"], **row["private"]} if self.unmasked else row["payload"]


def event_id(stream: str, feed_id: int) -> str:
    return f"{stream}:{feed_id}"


def parse_last_event_id(text: str, stream: str, span: tuple[int, int]) -> int:
    """The feed id to resume after; refuses ids of another stream or server (400) and pruned ones (410)."""
    match = _EVENT_ID.match(text.strip())
    if match is None:
        raise InvalidInput(
            f"Last-Event-ID {text[:40]!r} is not an event id of this server (they look like {stream}:123): "
            "reconnect without it"
        )
    if match["stream"] != stream:
        raise InvalidInput(
            f"Last-Event-ID {text!r} belongs to the {match['stream']} stream, not {stream}: "
            f"reconnect to /{match['stream']}/stream, or here without it"
        )
    after = int(match["id"])
    first, last = span
    if after > last:
        raise InvalidInput(
            f"Last-Event-ID {text!r} was not issued by this server (the newest is {last}): "
            "reconnect without it"
        )
    if after < first - 1:
        raise StaleEventId(
            f"events after {text} are no longer kept (the feed starts at {stream}:{first}): reload /{stream} and "
            "reconnect without Last-Event-ID"
        )
    return after


def _params(after: int, until: int | None, stream: str | None, limit: int) -> dict[str, Any]:
    return {"after": after, "until": until, "stream": stream, "limit": limit}


async def feed_since(
    conn: AsyncConnection[Any],
    after: int,
    until: int | None = None,
    stream: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_case_sql("feed_since.sql"), _params(after, until, stream, limit))
        return await cursor.fetchall()


async def feed_span(conn: AsyncConnection[Any]) -> tuple[int, int]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_case_sql("feed_span.sql"))
        row = await cursor.fetchone()
    return (int(row["first"]), int(row["last"])) if row else (0, 0)


def prune_feed(conn: psycopg.Connection, hours: int) -> dict[str, int]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(read_case_sql("feed_prune.sql"), {"hours": hours})
        row = cursor.fetchone()
    return {"pruned": int(row["pruned"]) if row else 0}
