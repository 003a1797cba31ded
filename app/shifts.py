"""The plant's shift pattern: which shift a moment belongs to, the one before and after, the shifts in a range.

A pattern is a list of local start times (``["06:00", "14:00", "22:00"]``: at least one, ``HH:MM``, strictly
increasing) in one IANA time zone (``Europe/Berlin``; empty = the system's local zone). Each start runs until the
next start, the last one of a day until the first one of the next day, so shifts tile time with no gap and no
overlap. Times are epoch seconds (the store's ``ts``); a shift is the half-open range ``[start_ts, end_ts)``.

Daylight saving: shift lengths follow the wall clock, so a night shift over the spring-forward night is an hour
shorter (22:00-06:00 is 7 h) and over the fall-back night an hour longer (9 h). A start time the clock does not
show on a day, or shows twice, is resolved by one rule:

- it does not exist (the spring gap, e.g. 02:30 in Europe/Berlin on the last Sunday of March): the shift starts at
  the next valid instant, the moment the clock jumps (03:00 local there);
- it exists twice (the fall-back hour, e.g. 02:30 in Europe/Berlin on the last Sunday of October): the first
  occurrence (``fold=0``, still summer time).

If two start times fall into the same gap both resolve to the same instant; the empty shift between them does not
exist that day (it is skipped by :meth:`ShiftPattern.shift_at`, ``previous``, ``next`` and ``shifts_between``).

For the Shift screen::

    pattern = ShiftPattern(settings.shifts.starts, settings.shifts.timezone)
    s = pattern.shift_at(time.time())          # the shift running now
    s.label                                    # "Thu 03 Dec, 06:00-14:00" (local wall times, English)
    pattern.previous(s), pattern.next(s)       # the buttons
    pattern.shift_on(date(2026, 12, 3), 0)     # the date picker: that day's first shift
    pattern.shifts_between(a, b)               # every shift overlapping [a, b)
"""
from __future__ import annotations

import bisect
import logging
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

MAX_STARTS = 24  # one shift per hour is the most any plant runs
MAX_RANGE_DAYS = 3660  # shifts_between refuses a longer range (ten years): a mistake, not a report
MIN_TS, MAX_TS = 0, 32_503_680_000  # 1970 to 3000: what datetime (and a plant) can hold, with days to spare
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # fixed words: the label must not follow the locale
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ALLOWED_STARTS = (f'allowed: 1 to {MAX_STARTS} local times "HH:MM" (00:00 to 23:59), in increasing order, each '
                   'once, e.g. ["06:00", "14:00", "22:00"]')
_ALLOWED_ZONE = ("allowed: an IANA time zone name such as 'Europe/Berlin' or 'America/New_York', or '' for the "
                 "system's local zone")


def parse_start(value: object) -> time:
    """One start time: ``"HH:MM"`` text or a :class:`datetime.time` on a whole minute without a zone (TOML's
    ``06:00:00`` local-time literal). Raises ValueError naming the value and what is allowed."""
    if isinstance(value, time):
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValueError(f"shift start {value.isoformat()!r} has seconds or a zone; {_ALLOWED_STARTS}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"shift start {value!r} is not text; {_ALLOWED_STARTS}")
    m = _TIME.match(value)
    if m is None:
        shown = repr(value) if len(value) <= 40 else repr(value[:40]) + "..."
        raise ValueError(f"shift start {shown} is not a time HH:MM; {_ALLOWED_STARTS}")
    return time(int(m[1]), int(m[2]))


def parse_starts(values: Iterable[object]) -> tuple[time, ...]:
    """The whole list, checked: at least one, at most :data:`MAX_STARTS`, strictly increasing."""
    if isinstance(values, str | bytes):
        raise ValueError(f"shift starts must be a list, not {type(values).__name__}; {_ALLOWED_STARTS}")
    starts = tuple(parse_start(v) for v in values)
    if not starts:
        raise ValueError(f"no shift start given; {_ALLOWED_STARTS}")
    if len(starts) > MAX_STARTS:
        raise ValueError(f"{len(starts)} shift starts; {_ALLOWED_STARTS}")
    for a, b in zip(starts, starts[1:], strict=False):
        if b == a:
            raise ValueError(f"shift start {a:%H:%M} is given twice; {_ALLOWED_STARTS}")
        if b < a:
            raise ValueError(f"shift start {b:%H:%M} is listed after {a:%H:%M}; {_ALLOWED_STARTS}")
    return starts


def resolve_zone(name: str | None) -> ZoneInfo:
    """The zone named ``name`` (IANA, e.g. ``Europe/Berlin``); ``""``/None = the system's local zone. Raises
    ValueError for a name that is malformed (paths, odd characters) or unknown."""
    if not name:
        return local_zone()
    if len(name) > 64 or not _ZONE.match(name) or ".." in name:
        shown = repr(name) if len(name) <= 64 else repr(name[:64]) + "..."
        raise ValueError(f"time zone {shown} is not a zone name; {_ALLOWED_ZONE}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"time zone {name!r} is not a known IANA time zone; {_ALLOWED_ZONE}") from None


def local_zone() -> ZoneInfo:
    """The system's zone with its daylight-saving rules (not the fixed offset ``astimezone()`` gives): ``$TZ`` if it
    names a zone, else the zone /etc/localtime links to, else that file's rules, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return resolve_zone(tz)
        except ValueError:
            log.warning("TZ=%r is not an IANA zone name; using /etc/localtime", tz[:64])
    localtime = Path("/etc/localtime")
    target = str(localtime.resolve()) if localtime.is_symlink() else ""
    if "zoneinfo/" in target:
        try:
            return resolve_zone(target.split("zoneinfo/", 1)[1])
        except ValueError:
            pass
    try:
        with localtime.open("rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        log.warning("no system time zone found (/etc/localtime); shifts use UTC")
        return ZoneInfo("UTC")


def _wall_to_instant(day: date, at: time, zone: ZoneInfo) -> int:
    """Epoch seconds of the wall time ``day at`` in ``zone``: the first occurrence of a repeated time, the next valid
    instant (the moment the clock jumps) for a time in a gap."""
    wall = datetime.combine(day, at, tzinfo=zone)  # fold=0
    t0 = int(wall.timestamp())
    if datetime.fromtimestamp(t0, zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return t0  # exists (once, or the first of two with fold=0)
    # In a gap: fold=0 used the offset before the jump (t0, after it), fold=1 the offset after (t1, before it).
    # The jump is the first instant in (t1, t0] whose offset is the later one.
    t1 = int(wall.replace(fold=1).timestamp())
    lo, hi = min(t0, t1), max(t0, t1)
    after = wall.replace(fold=1).utcoffset()  # in a gap, fold=1 means the offset after the jump
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _check_ts(what: str, ts: float) -> None:
    if not (isinstance(ts, int | float) and math.isfinite(ts) and MIN_TS <= ts <= MAX_TS):
        raise ValueError(f"{what}: {ts!r} is not a time; allowed: epoch seconds from {MIN_TS} to {MAX_TS}")


def _wall_text(ts: float, zone: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(ts, zone):%H:%M}"


@dataclass(frozen=True, slots=True)
class Shift:
    """One shift: ``[start_ts, end_ts)`` in epoch seconds. ``local_date`` and ``index`` say which start of the
    pattern on which local day it is (``index`` 0 = the day's first start); ``label`` reads
    ``"Thu 03 Dec, 06:00-14:00"`` (the local wall times the clock showed at its start and end)."""

    local_date: date
    index: int
    start_ts: float
    end_ts: float
    label: str
    zone: ZoneInfo = field(compare=False, repr=False)

    @property
    def duration_s(self) -> float:
        return self.end_ts - self.start_ts

    @property
    def key(self) -> str:
        """A stable id for the shift, e.g. ``"2026-12-03#0"`` (to store a handover sign-off against)."""
        return f"{self.local_date.isoformat()}#{self.index}"

    def contains(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts

    def start_local(self) -> datetime:
        return datetime.fromtimestamp(self.start_ts, self.zone)

    def end_local(self) -> datetime:
        return datetime.fromtimestamp(self.end_ts, self.zone)


class ShiftPattern:
    """The configured pattern (immutable). Raises ValueError naming the bad value and what is allowed."""

    def __init__(self, starts: Sequence[object] = ("06:00", "14:00", "22:00"), timezone_name: str | None = None
                 ) -> None:
        self.starts: tuple[time, ...] = parse_starts(starts)
        self.zone: ZoneInfo = resolve_zone(timezone_name)

    def __repr__(self) -> str:
        return f"ShiftPattern({[f'{s:%H:%M}' for s in self.starts]!r}, {self.zone.key!r})"

    def _boundaries(self, first: date, last: date) -> list[tuple[int, date, int]]:
        """(start instant, local date, index) of every non-empty shift starting on local days first..last."""
        out: list[tuple[int, date, int]] = []
        day = first
        while day <= last:
            for i, at in enumerate(self.starts):
                t = _wall_to_instant(day, at, self.zone)
                if out and out[-1][0] == t:
                    out[-1] = (t, day, i)  # the earlier one is empty (both starts in one gap): the later one runs
                else:
                    out.append((t, day, i))
            day += timedelta(days=1)
        return out

    def _shift(self, bounds: list[tuple[int, date, int]], k: int) -> Shift:
        start, day, index = bounds[k]
        end = bounds[k + 1][0]
        local = datetime.fromtimestamp(start, self.zone)
        label = (f"{_DAYS[local.weekday()]} {local.day:02d} {_MONTHS[local.month - 1]}, "
                 f"{_wall_text(start, self.zone)}-{_wall_text(end, self.zone)}")
        return Shift(day, index, float(start), float(end), label, self.zone)

    def shift_at(self, ts: float) -> Shift:
        """The shift that contains ``ts`` (epoch seconds)."""
        _check_ts("shift_at", ts)
        day = datetime.fromtimestamp(ts, UTC).astimezone(self.zone).date()
        span = 2
        while True:  # two days either side always suffice except where a zone skipped whole days
            bounds = self._boundaries(day - timedelta(days=span), day + timedelta(days=span))
            k = bisect.bisect_right(bounds, ts, key=lambda b: b[0]) - 1
            if 0 <= k < len(bounds) - 1:
                return self._shift(bounds, k)
            span *= 2

    def shift_on(self, day: date, index: int = 0) -> Shift:
        """The shift that starts at the pattern's start ``index`` on local day ``day`` (the date picker); if that
        start falls into a daylight-saving gap together with the next one, the shift that runs from there."""
        if not 0 <= index < len(self.starts):
            raise ValueError(f"shift index {index}; allowed 0 to {len(self.starts) - 1} ({len(self.starts)} starts)")
        return self.shift_at(_wall_to_instant(day, self.starts[index], self.zone))

    def previous(self, shift: Shift) -> Shift:
        # boundaries are whole seconds, so every shift is at least 1 s long
        return self.shift_at(shift.start_ts - 1)

    def next(self, shift: Shift) -> Shift:
        return self.shift_at(shift.end_ts)

    def shifts_between(self, start: float, end: float) -> list[Shift]:
        """Every shift that overlaps ``[start, end)``, oldest first (empty when ``end <= start``)."""
        _check_ts("shifts_between start", start)
        _check_ts("shifts_between end", end)
        if end - start > MAX_RANGE_DAYS * 86400:
            raise ValueError(f"shifts_between: {(end - start) / 86400:.0f} days; allowed at most {MAX_RANGE_DAYS}")
        if end <= start:
            return []
        first = self.shift_at(start)
        last_day = datetime.fromtimestamp(end, self.zone).date() + timedelta(days=2)
        bounds = self._boundaries(first.local_date, last_day)  # one pass, not a shift_at per shift
        k = bounds.index((int(first.start_ts), first.local_date, first.index))
        out: list[Shift] = []
        while k < len(bounds) - 1 and bounds[k][0] < end:
            out.append(self._shift(bounds, k))
            k += 1
        return out


__all__ = ["MAX_STARTS", "Shift", "ShiftPattern", "local_zone", "parse_start", "parse_starts", "resolve_zone"]
