"""Working time in Asia/Shanghai: office hours on working days, where working days follow the official Chinese
holiday calendar (public holidays and the weekend days worked in exchange, 调休, from the ``holidays`` package)
corrected by the days an administrator configures (``onemap.case_calendar``)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from spatial.errors import InvalidInput


@lru_cache(maxsize=32)
def _official(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def parse_hours(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """ "09:00-12:00,14:00-18:00" -> ordered, non-overlapping periods of a working day."""
    periods: list[tuple[dt.time, dt.time]] = []
    try:
        for part in text.split(","):
            start, end = (dt.time.fromisoformat(p.strip()) for p in part.split("-"))
            periods.append((start, end))
    except ValueError as exc:
        raise InvalidInput(f"working hours {text!r}: write them like 09:00-12:00,14:00-18:00") from exc
    periods.sort()
    for (s1, e1), (s2, _) in itertools.pairwise(periods):
        if not s1 < e1 <= s2:
            raise InvalidInput(f"working hours {text!r}: periods must be ordered and must not overlap")
    if periods and periods[-1][0] >= periods[-1][1]:
        raise InvalidInput(f"working hours {text!r}: each period must end after it starts")
    return tuple(periods)


@dataclass(frozen=True)
class WorkingCalendar:
    hours: tuple[tuple[dt.time, dt.time], ...]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)  # day -> working

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return bool(_official(day.year).is_working_day(day))

    def add(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant `hours` working hours after `start` (aware; returned in UTC)."""
        if not self.hours:
            raise InvalidInput("no working hours are configured (ONEMAP_CASES_WORKING_HOURS)")
        left = dt.timedelta(hours=hours)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(
            3660
        ):  # ten years of days: far beyond any limit, a guard against an all-holiday calendar
            if self.is_working_day(day):
                for begin, end in self.hours:
                    opens = dt.datetime.combine(day, begin, self.zone)
                    closes = dt.datetime.combine(day, end, self.zone)
                    if closes <= local:
                        continue
                    opens = max(opens, local)
                    if opens + left <= closes:
                        return (opens + left).astimezone(dt.UTC)
                    left -= closes - opens
            day += dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time(), self.zone)
        raise InvalidInput("the working calendar has no working days in the next ten years")
