"""Computing figures for a scope: at one instant (the wall's tiles, per child area for the charts) or as a
time series by day, week or month. Instants are bucket ends in Beijing time; flow figures count the bucket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from spatial.beijing_time import beijing_date, day_end, day_start
from spatial.errors import InvalidInput
from spatial.kpis.registry import Figure, Values
from spatial.kpis.scope import Scope
from spatial.kpis.sql import read_kpi_sql
from spatial.kpis.stored import stored_rows

STEPS = {"day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
MAX_POINTS = 400


@dataclass(frozen=True)
class FigureValue:
    figure: Figure
    total: Values
    by_area: dict[str, Values]


def _params(
    figure: Figure,
    scope: Scope,
    instants: list[dt.datetime],
    since: list[dt.datetime],
    department: str | None,
) -> dict[str, Any]:
    params = {
        "grids": list(scope.grids),
        "areas": list(scope.areas),
        "instants": instants,
        "since": since,
        "department": department,
    }
    return {**params, **figure.params()} if figure.params else params


def _finish(figure: Figure, values: Values) -> Values:
    full = {key: 0.0 for key in figure.keys}
    full.update(values)
    return figure.derive(full) if figure.derive else full


async def _rows(conn: AsyncConnection[Any], figure: Figure, params: dict[str, Any]) -> list[dict[str, Any]]:
    if figure.spans is None:
        return await _live_rows(conn, figure.sql_file, params)
    rows = await stored_rows(conn, figure, params)
    if figure.department_keys and params["department"] is not None:
        rows = [row for row in rows if row["key"] == params["department"]]
    if figure.live_sql is not None:
        rows += await _live_rows(conn, figure.live_sql, params)
    return rows


async def _live_rows(conn: AsyncConnection[Any], sql_file: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_kpi_sql(sql_file), params)
        return await cursor.fetchall()


async def figure_at(
    conn: AsyncConnection[Any], figure: Figure, scope: Scope, at: dt.datetime, department: str | None = None
) -> FigureValue:
    """`figure` for `scope` as of `at` (flow figures: the day up to `at`), in total and per child area.
    `department` narrows the figures that know departments (cases) to that department's rows."""
    rows = await _rows(conn, figure, _params(figure, scope, [at], [day_start(beijing_date(at))], department))
    total: Values = {}
    by_area: dict[str, Values] = {code: {} for code in scope.names} if figure.areal else {}
    for row in rows:
        total[row["key"]] = total.get(row["key"], 0.0) + row["value"]
        if row["area_code"] is None:  # not in any area (see Figure.areal)
            continue
        area = by_area.setdefault(row["area_code"], {})
        area[row["key"]] = area.get(row["key"], 0.0) + row["value"]
    return FigureValue(figure, _finish(figure, total), {k: _finish(figure, v) for k, v in by_area.items()})


def bucket_ends(start: dt.date, end: dt.date, step: str) -> list[dt.datetime]:
    """The end instants (exclusive midnight, Beijing time) of each day, week or month from `start` to `end`."""
    if end < start:
        raise InvalidInput(f"to ({end}) is before from ({start})")
    days: list[dt.date] = []
    if step == "month":
        first = start.replace(day=1)
        while first <= end:
            following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            days.append(min(following - dt.timedelta(days=1), end))
            first = following
    elif step in STEPS:
        day = start + STEPS[step] - dt.timedelta(days=1)
        while True:
            days.append(min(day, end))
            if day >= end:
                break
            day += STEPS[step]
    else:
        raise InvalidInput(f"unknown step {step!r}: use day, week or month")
    if len(days) > MAX_POINTS:
        raise InvalidInput(f"{len(days)} points of step {step}: at most {MAX_POINTS}; use a longer step")
    return [day_end(d) for d in days]


async def figure_series(
    conn: AsyncConnection[Any],
    figure: Figure,
    scope: Scope,
    start: dt.date,
    end: dt.date,
    step: str,
    department: str | None = None,
) -> list[dict[str, Any]]:
    """`figure` for `scope` at the end of each bucket: [{"at", "values"}], oldest first."""
    instants = bucket_ends(start, end, step)
    # each bucket runs from the previous bucket's end (the first from `start`)
    since = [day_start(start), *instants[:-1]]
    rows = await _rows(conn, figure, _params(figure, scope, instants, since, department))
    per_instant: dict[dt.datetime, Values] = {at: {} for at in instants}
    for row in rows:
        values = per_instant.setdefault(row["at"], {})
        values[row["key"]] = values.get(row["key"], 0.0) + row["value"]
    return [{"at": at.isoformat(), "values": _finish(figure, per_instant[at])} for at in sorted(per_instant)]


def readable(figures: Iterable[Figure], layer_ids: set[str]) -> tuple[list[Figure], list[str]]:
    """The figures whose counted layers are all in `layer_ids`, and the names of the others."""
    shown: list[Figure] = []
    withheld: list[Figure] = []
    for figure in figures:
        (shown if set(figure.requires) <= layer_ids else withheld).append(figure)
    return shown, [f.name for f in withheld]
