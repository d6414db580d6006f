"""Dates for "as of" questions, and the change between two answers.

A date D means "at the end of day D, Beijing time": residences (date periods) count when
``valid_from <= D < valid_to``; versioned rows (timestamps) count when ``valid_from < T <= valid_to`` with T the
next Beijing midnight, so a change made during D is already visible on D.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from spatial import beijing_time
from spatial.beijing_time import beijing_date, day_start
from spatial.errors import InvalidInput

# The dates an analysis can be asked about: the archives start in the 20th century; far dates overflow.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def parse_as_of(value: dt.date | str | None, today: dt.date | None = None) -> dt.date:
    day = _as_date(value, today)
    if not EARLIEST <= day <= LATEST:
        raise InvalidInput(f"as-of date {value!s} is outside {EARLIEST} to {LATEST}")
    return day


def _as_date(value: dt.date | str | None, today: dt.date | None) -> dt.date:
    if value is None:
        return today or beijing_time.today()
    if isinstance(value, dt.datetime):
        return beijing_date(value)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidInput(f"as-of date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February -> 28 February), for age thresholds."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def as_of_params(value: dt.date | str | None) -> dict[str, Any]:
    day = parse_as_of(value)
    end = day_start(day + dt.timedelta(days=1))
    return {"as_of": day, "as_of_end": end}


def change_between(before: pd.DataFrame, after: pd.DataFrame, key: str, columns: Sequence[str]) -> pd.DataFrame:
    """Per `key`: each column before, after, and the difference (missing rows count as 0)."""
    left = before.set_index(key)[list(columns)]
    right = after.set_index(key)[list(columns)]
    both = left.join(right, how="outer", lsuffix="_before", rsuffix="_after").fillna(0)
    for column in columns:
        both[f"{column}_change"] = both[f"{column}_after"] - both[f"{column}_before"]
    return both.reset_index()
