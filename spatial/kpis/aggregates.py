"""The figures' pre-aggregates, refreshed where a change has made them stale.

Only population is pre-aggregated: counting 5M residences per scope and day is seconds, the aggregate is
milliseconds. Triggers on residences, persons and buildings (``sql/aggregate_triggers.sql``) record from which
day a change made it stale; the figure computes stale or missing days live, so it is right before a refresh too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from spatial import beijing_time
from spatial.kpis.sql import read_kpi_sql

DEFAULT_DAYS = 400  # a year of daily trend and the same month last year


@dataclass(frozen=True)
class Refreshed:
    first_day: dt.date
    last_day: dt.date
    rows: int


def refresh_population(
    conn: psycopg.Connection[Any], first: dt.date | None = None, last: dt.date | None = None
) -> Refreshed:
    """Recount the days from the earliest stale one (or `first`) to `last` (default today, Beijing time) in one
    transaction. The aggregate's row stays locked meanwhile, so a change committed during the refresh marks it
    stale again after the refresh rather than being lost."""
    last = last or beijing_time.today()
    with conn.transaction():
        conn.execute("INSERT INTO onemap.kpi_aggregate (name) VALUES ('population') ON CONFLICT DO NOTHING")
        state = conn.execute(
            "SELECT first_day, last_day, dirty_since FROM onemap.kpi_aggregate WHERE name = 'population' FOR UPDATE"
        ).fetchone()
        assert state is not None  # inserted above
        held_first, held_last, dirty = state
        if held_first is None or held_last is None:
            start = first or last - dt.timedelta(days=DEFAULT_DAYS)
            low, high = start, last
        else:
            # the days after the held ones, the stale ones, and any asked for; always up to the newest held day,
            # so that the aggregate stays one contiguous, clean range
            high = max(last, held_last)
            candidates = [held_last + dt.timedelta(days=1)]
            if dirty is not None:
                candidates.append(max(dirty, held_first))
            if first is not None:
                candidates.append(first)
            start = min(candidates)
            low = min(start, held_first)
        rows = 0
        if start <= high:
            conn.execute("DELETE FROM onemap.kpi_population_daily WHERE day BETWEEN %s AND %s", (start, high))
            cursor = conn.execute(read_kpi_sql("population_refresh.sql"), {"first": start, "last": high})
            rows = cursor.rowcount
        conn.execute(
            "UPDATE onemap.kpi_aggregate SET first_day = %s, last_day = %s, dirty_since = NULL, "
            "refreshed_at = now() WHERE name = 'population'",
            (low, high),
        )
    return Refreshed(start, high, rows)
