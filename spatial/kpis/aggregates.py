"""The slow figures' daily pre-aggregate, and the refresh that keeps it current.

A pre-aggregated figure is defined once, by its spans (``sql/spans/<figure>.sql``): what it counts, in which
grid, from when to when and with what weight. The same spans give the live count (``sql/span_values.sql``) and
the aggregate: the value per grid at the last instant of each Beijing day (``sql/span_refresh.sql``). Triggers
mark the grids a change touches (``sql/span_triggers.sql``); the figures count those grids live, and a refresh
recounts only them (every minute, by the ``kpi_refresh`` job), so an edit costs a few grids' recount, not the
district's. A new day, or days asked for before the held ones, recount every grid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from spatial import beijing_time
from spatial.kpis.registry import FIGURES, Figure
from spatial.kpis.sql import read_kpi_sql

DEFAULT_DAYS = 400  # a year of daily trend and the same month last year
# Days held beyond today: at midnight the new day is already counted, and the refresh that adds the next one
# (every grid, minutes at full scale) runs while the figures keep reading the store.
DAYS_AHEAD = 1


def aggregated_figures() -> list[Figure]:
    return [f for f in FIGURES.values() if f.spans is not None]


def span_sql(template: str, figure: Figure) -> str:
    """`template` (span_values.sql or span_refresh.sql) around the figure's spans."""
    return read_kpi_sql(template).replace("{spans}", read_kpi_sql(figure.sql_file))


@dataclass(frozen=True)
class Refreshed:
    first_day: dt.date
    last_day: dt.date
    grids: int  # grids recounted
    rows: int
    everywhere: bool  # every grid was recounted (the first refresh, a new day, earlier days asked for)


def _all_grids(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute("SELECT code FROM onemap.admin_area WHERE level = 'grid' ORDER BY code")]


def _count(
    conn: psycopg.Connection[Any], figure: Figure, grids: list[str], first: dt.date, last: dt.date, emit_from: dt.date
) -> int:
    params = {"figure": figure.name, "span_grids": grids, "first": first, "last": last, "emit_from": emit_from}
    return conn.execute(span_sql("span_refresh.sql", figure), params).rowcount


def _refresh_figure(
    conn: psycopg.Connection[Any],
    figure: Figure,
    stale: list[str],
    first: dt.date | None,
    last: dt.date,
) -> Refreshed:
    conn.execute("INSERT INTO onemap.kpi_aggregate (name) VALUES (%s) ON CONFLICT DO NOTHING", (figure.name,))
    state = conn.execute(
        "SELECT first_day, last_day FROM onemap.kpi_aggregate WHERE name = %s FOR UPDATE", (figure.name,)
    ).fetchone()
    assert state is not None  # inserted above
    held_first, held_last = state
    rows = 0
    if held_first is None or held_last is None or (first is not None and first < held_first):
        # nothing held yet, or earlier days asked for: recount every grid and day
        low = first if first is not None else last - dt.timedelta(days=DEFAULT_DAYS)
        high = max(last, held_last or last)
        everywhere = _all_grids(conn)
        conn.execute("DELETE FROM onemap.kpi_daily WHERE figure = %s", (figure.name,))
        rows = _count(conn, figure, everywhere, low, high, low)
        grids, whole = len(everywhere), True
    else:
        low, high = held_first, max(last, held_last)
        grids, whole = 0, False
        if high > held_last:  # the new days, for every grid
            everywhere = _all_grids(conn)
            rows += _count(conn, figure, everywhere, low, high, held_last + dt.timedelta(days=1))
            grids, whole = len(everywhere), True
        if stale:
            conn.execute(
                "DELETE FROM onemap.kpi_daily WHERE figure = %s AND grid_code = ANY(%s)", (figure.name, stale)
            )
            rows += _count(conn, figure, stale, low, high, low)
            grids = max(grids, len(stale))
    if grids:
        # only when something was recounted: from refreshed_at on, a clean grid's value is the end of its day
        # (kpis/stored.py), and a request that began just before a refresh with nothing to do should not go live
        conn.execute(
            "UPDATE onemap.kpi_aggregate SET first_day = %s, last_day = %s, refreshed_at = now() WHERE name = %s",
            (low, high, figure.name),
        )
    return Refreshed(low, high, grids, rows, whole)


def refresh_aggregates(
    conn: psycopg.Connection[Any], first: dt.date | None = None, last: dt.date | None = None
) -> dict[str, Refreshed]:
    """Recount the stale grids of every pre-aggregated figure, and the days from the newest held one (or `first`)
    to `last` (default tomorrow, Beijing time: see DAYS_AHEAD), in one transaction. The marks cleared are the
    ones read at the start: a change committed meanwhile keeps its grid marked for the next refresh."""
    last = last or beijing_time.today() + dt.timedelta(days=DAYS_AHEAD)
    done: dict[str, Refreshed] = {}
    with conn.transaction():
        marks = conn.execute("SELECT topic, grid_code, mark FROM onemap.kpi_dirty_grid").fetchall()
        for figure in aggregated_figures():
            stale = sorted(grid for topic, grid, _ in marks if topic == figure.stale_by)
            done[figure.name] = _refresh_figure(conn, figure, stale, first, last)
        if marks:
            conn.execute(
                "DELETE FROM onemap.kpi_dirty_grid AS d "
                "USING unnest(%s::text[], %s::text[], %s::bigint[]) AS m(topic, grid_code, mark) "
                "WHERE (d.topic, d.grid_code, d.mark) = (m.topic, m.grid_code, m.mark)",
                ([t for t, _, _ in marks], [g for _, g, _ in marks], [m for _, _, m in marks]),
            )
        if any(r.everywhere for r in done.values()):
            conn.execute("ANALYZE onemap.kpi_daily")  # the planner reads a day by the key only when it knows the rows
    return done
