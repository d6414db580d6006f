"""Every time a user writes: the ``datetime`` parameter of OGC API Features (an instant, or an interval with
optional open ends) and the single "as of" instant of downloads, restores, archives, viewers and the CLI.

Dates without a time mean the whole day in Beijing time (UTC+8), as users of the platform read dates; times
without an offset are Beijing time too. Everything is returned as aware datetimes in UTC, as they are stored.
The one place that reads user time, so that "as of 2024-01-01" is the same instant on every page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spatial.beijing_time import BEIJING, day_end, day_start
from spatial.errors import InvalidInput

OPEN = ("", "..")
_HELP = (
    "use RFC 3339, e.g. 2024-05-01T08:00:00Z, 2024-05-01, an interval 2024-01-01/2024-06-30, "
    "or an open one 2024-01-01/.. or ../2024-06-30"
)


@dataclass(frozen=True)
class TimeInterval:
    """[start, end] (inclusive), either end may be open (None). An instant has start == end."""

    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def is_instant(self) -> bool:
        return self.start is not None and self.start == self.end

    @classmethod
    def at(cls, instant: dt.datetime) -> TimeInterval:
        return cls(instant, instant)


def parse_instant(text: str, end_of_day: bool = False) -> dt.datetime:
    value = text.strip()
    if len(value) == 10:  # a date
        day = dt.date.fromisoformat(value)
        return (day_end(day) if end_of_day else day_start(day)).astimezone(dt.UTC)
    parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)).astimezone(dt.UTC)


def parse_datetime(text: str) -> TimeInterval:
    """Parse the OGC ``datetime`` parameter; InvalidInput says how to write it."""
    try:
        if "/" not in text:
            if text.strip() in OPEN:
                raise ValueError
            if len(text.strip()) == 10:  # a date is the interval of that day
                return TimeInterval(parse_instant(text), parse_instant(text, end_of_day=True))
            return TimeInterval.at(parse_instant(text))
        first, second = text.split("/")
        start = None if first.strip() in OPEN else parse_instant(first)
        end = None if second.strip() in OPEN else parse_instant(second, end_of_day=True)
    except (ValueError, OverflowError):
        raise InvalidInput(f"invalid datetime {text!r}: {_HELP}") from None
    if start is None and end is None:
        raise InvalidInput(f"invalid datetime {text!r}: at least one end of the interval must be given")
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"invalid datetime {text!r}: the interval ends before it starts")
    return TimeInterval(start, end)


def parse_as_of(text: str | None) -> dt.datetime | None:
    """One instant ("as of"), or None for none given or ``..`` (now). A date means the end of that day."""
    if text is None or text.strip() in OPEN:
        return None
    if "/" in text:
        raise InvalidInput(
            f"invalid datetime {text!r}: give one instant, e.g. 2024-05-01T08:00:00Z or 2024-05-01"
        )
    return parse_datetime(text).end
