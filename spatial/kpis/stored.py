"""Reading a pre-aggregated figure: the stored day where it holds the instant's value exactly, counted live from
the figure's spans for the rest (instants between two stored days, days not held, grids marked stale)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial import beijing_time
from spatial.kpis.aggregates import span_sql
from spatial.kpis.registry import CHANGES_AT_MIDNIGHT, Figure


def stored_day(figure: Figure, at: dt.datetime, refreshed_at: dt.datetime | None) -> dt.date | None:
    """The day whose stored value (the value at its last instant) is the figure's value at `at`, if any."""
    day = beijing_time.beijing_date(at)
    if figure.spans == CHANGES_AT_MIDNIGHT or at == beijing_time.day_end(day):
        return day
    if refreshed_at is not None and at >= refreshed_at:
        # A grid not marked stale has changed only before the last refresh, and its spans begin and end at
        # recorded instants: its value stays the same from then to the end of the day.
        return day
    return None


async def stored_rows(conn: AsyncConnection[Any], figure: Figure, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (at, area_code, key, value) of `figure` for the scope and instants in `params` (see compute._params)."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT a.first_day, a.last_day, a.refreshed_at, "
            "ARRAY(SELECT grid_code FROM onemap.kpi_dirty_grid WHERE topic = %s AND grid_code = ANY(%s)) AS stale "
            "FROM (SELECT 1) AS one LEFT JOIN onemap.kpi_aggregate AS a ON a.name = %s",
            (figure.stale_by, params["grids"], figure.name),
        )
        row = await cursor.fetchone()
    assert row is not None  # one row, with NULL days when nothing is held
    first, last, refreshed_at, stale = row["first_day"], row["last_day"], row["refreshed_at"], set(row["stale"])
    stored_at: list[dt.datetime] = []
    stored_days: list[dt.date] = []
    skip: list[tuple[dt.datetime, str]] = []
    live: list[tuple[dt.datetime, str]] = []
    for at in params["instants"]:
        day = stored_day(figure, at, refreshed_at)
        if day is not None and first is not None and first <= day <= last:
            stored_at.append(at)
            stored_days.append(day)
            pending = [grid for grid in params["grids"] if grid in stale]
            skip.extend((at, grid) for grid in pending)
        else:
            pending = list(params["grids"])
        live.extend((at, grid) for grid in pending)
    values = {
        **params,
        "figure": figure.name,
        "stored_at": stored_at,
        "stored_day": stored_days,
        "skip_at": [at for at, _ in skip],
        "skip_grid": [grid for _, grid in skip],
        "live_at": [at for at, _ in live],
        "live_grid": [grid for _, grid in live],
        "span_grids": sorted({grid for _, grid in live}),
    }
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(span_sql("span_values.sql", figure), values)
        return await cursor.fetchall()
