"""What a viewer needs from the database: the district's extent, the time slider's range, the focused building
or grid, and the heatmap cells. Static SQL in ``sql/``; every value a bound parameter (psycopg
``%(name)s``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from layers.query.temporal import TimeInterval, parse_datetime
from layers.viewer.settings import ViewerSettings
from layers.viewer.sql import read_sql
from spatial.beijing_time import beijing_date
from spatial.errors import InvalidInput


def sql(name: str) -> str:
    return read_sql(f"{name}.sql")


def bounds_of(row: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if not row or row.get("west") is None:
        return None
    return (float(row["west"]), float(row["south"]), float(row["east"]), float(row["north"]))


def padded(bounds: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    west, south, east, north = bounds
    return (west - pad, south - pad, east + pad, north + pad)


def _within_years(when: dt.datetime, text: str) -> dt.datetime:
    if not 1900 <= when.year <= 2999:  # a year before an instant near year 1 would overflow
        raise InvalidInput(f"invalid datetime {text!r}: outside the years 1900 to 2999")
    return when


def heat_query(
    kind: str, datetime: str | None, grids: list[str] | None, settings: ViewerSettings
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of a heatmap: ``kind`` population (as of an instant) or events (in a period),
    over the grids ``grids`` (None: the whole district).

    Times are read by ``layers.query.temporal`` like every other page's (naive = Beijing time).
    """
    now = dt.datetime.now(dt.UTC)
    params: dict[str, Any] = {"cell": settings.heat_cell_degrees, "grids": grids}
    when = parse_datetime(datetime) if datetime else TimeInterval(None, None)
    end = _within_years(when.end, datetime or "") if when.end else now
    if kind == "population":
        params["at"] = beijing_date(end)
        return sql("heat_population"), params
    if datetime and "/" not in datetime:  # one instant: the year up to it
        start = end - dt.timedelta(days=365)
    elif when.start:
        start = _within_years(when.start, datetime or "")
    else:
        start = now - dt.timedelta(days=365) if not datetime else dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    params.update(start=start, end=end)
    return sql("heat_events"), params


def heat_points(rows: list[dict[str, Any]]) -> list[list[float]]:
    if not rows:
        return []
    top = max(float(r["n"]) for r in rows) or 1.0
    return [
        [round(float(r["lat"]), 5), round(float(r["lon"]), 5), round(float(r["n"]) / top, 3)] for r in rows
    ]
