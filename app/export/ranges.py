"""The export ranges a supervisor picks (issue 13, item 5): a shift of the plant's pattern, a local day, the last
hours, or a custom from/to - one module, so the Export screen and ``python main.py export`` mean the same thing.

Every range is a half-open ``[start, end)`` in epoch seconds. A day is local midnight to the next local midnight
in the plant's zone, so a daylight-saving day is 23 or 25 hours long; a shift is the pattern's
(:class:`app.shifts.ShiftPattern`, DST-correct), whole even while it is still running.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from app.shifts import ShiftPattern

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ShiftChoice(Enum):
    CURRENT = "current"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: float
    end: float
    label: str  # for the screen and the log: "Shift Thu 03 Dec, 06:00-14:00", "Day Thu 03 Dec 2026"


def shift_range(pattern: ShiftPattern, which: ShiftChoice, now: float) -> TimeRange:
    shift = pattern.shift_at(now)
    if which is ShiftChoice.PREVIOUS:
        shift = pattern.previous(shift)
    return TimeRange(shift.start_ts, shift.end_ts, f"Shift {shift.label}")


def day_range(day: dt.date, zone: ZoneInfo) -> TimeRange:
    """Local midnight to the next local midnight (a midnight the clock skips - a few zones change at 00:00 -
    resolves to the first instant after the gap, as :mod:`zoneinfo` does with fold=0 and a round trip)."""
    def midnight(d: dt.date) -> float:
        naive = dt.datetime(d.year, d.month, d.day)
        aware = naive.replace(tzinfo=zone)
        back = dt.datetime.fromtimestamp(aware.timestamp(), zone).replace(tzinfo=None)
        # a non-existent midnight comes back later than asked: start at the jump, not an hour before the day
        return aware.timestamp() if back >= naive else aware.replace(fold=1).timestamp()

    return TimeRange(midnight(day), midnight(day + dt.timedelta(days=1)), f"Day {day:%a %d %b %Y}")


def parse_day(text: str) -> dt.date:
    """``YYYY-MM-DD`` -> the date; a clear ValueError otherwise."""
    if not _DAY.fullmatch(text.strip()):
        raise ValueError(f"--day {text[:40]!r} is not a date; allowed: YYYY-MM-DD such as 2026-12-01")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--day {text[:40]!r} is no such date; allowed: YYYY-MM-DD such as 2026-12-01") from None


def last_hours(hours: float, now: float) -> TimeRange:
    return TimeRange(now - hours * 3600.0, now, f"Last {hours:g} h")


def custom_range(start: dt.datetime, end: dt.datetime) -> TimeRange:
    """Two aware local datetimes (the screen's steppers) -> the range; the request checks end > start."""
    return TimeRange(start.timestamp(), end.timestamp(), f"{start:%d %b %H:%M} to {end:%d %b %H:%M}")
