"""Beijing time (UTC+8, no daylight saving): the clock the district's users read dates in.

The one home of the offset, "today" and the ends of a day, so that a date means the same hours in the wall's
figures, the analyses, the door-access generator, ID-number ages and the OGC ``datetime`` parameter.
"""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8))


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def day_start(day: dt.date) -> dt.datetime:
    """The first instant of `day` in Beijing time."""
    return dt.datetime.combine(day, dt.time(), BEIJING)


def day_end(day: dt.date) -> dt.datetime:
    """The last instant of `day` in Beijing time."""
    return day_start(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def beijing_date(instant: dt.datetime) -> dt.date:
    """The Beijing calendar day of an aware instant (a naive one is taken as Beijing time already)."""
    return instant.astimezone(BEIJING).date() if instant.tzinfo else instant.date()
