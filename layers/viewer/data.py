"""What a viewer needs from the database: the district's extent, the time slider's range, the focused building
or grid, and the heatmap cells. Static SQL in ``sql/``; every value a bound parameter (psycopg
``%(name)s``)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib.resources import files
from typing import Any

from layers.viewer.settings import ViewerSettings


@cache
def sql(name: str) -> str:
    return files("layers.viewer").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def bounds_of(row: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if not row or row.get("west") is None:
        return None
    return (float(row["west"]), float(row["south"]), float(row["east"]), float(row["north"]))


def padded(bounds: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    west, south, east, north = bounds
    return (west - pad, south - pad, east + pad, north + pad)


def _parse_instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if not 1900 <= value.year <= 2999:  # a year before an instant near year 1 would overflow
        raise ValueError(f"{text!r} is outside the years 1900 to 2999")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def heat_query(kind: str, datetime: str | None, grids: list[str] | None,
               settings: ViewerSettings) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of a heatmap: ``kind`` population (as of an instant) or events (in a period),
    over the grids ``grids`` (None: the whole district)."""
    now = dt.datetime.now(dt.UTC)
    params: dict[str, Any] = {"cell": settings.heat_cell_degrees, "grids": grids}
    if kind == "population":
        at = _parse_instant(datetime.split("/")[-1]) if datetime and datetime.split("/")[-1] != ".." else now
        params["at"] = at.date()
        return sql("heat_population"), params
    start, end = now - dt.timedelta(days=365), now
    if datetime:
        first, _, last = datetime.partition("/")
        if last:
            start = (_parse_instant(first) if first not in ("", "..")
                     else dt.datetime(1900, 1, 1, tzinfo=dt.UTC))
            end = _parse_instant(last) if last not in ("", "..") else now
        else:
            end = _parse_instant(first)
            start = end - dt.timedelta(days=365)
    params.update(start=start, end=end)
    return sql("heat_events"), params


def heat_points(rows: list[dict[str, Any]]) -> list[list[float]]:
    if not rows:
        return []
    top = max(float(r["n"]) for r in rows) or 1.0
    return [[round(float(r["lat"]), 5), round(float(r["lon"]), 5), round(float(r["n"]) / top, 3)]
            for r in rows]
