"""Shift patterns from any configuration (app/shifts.py): over any start times (also inside daylight-saving gaps
and repeated hours) in zones with 1-hour, 30-minute and whole-day clock changes, shifts tile time with no gap or
overlap, shift_at(ts) contains ts, previous/next undo each other; hostile setting text is a ConfigError."""
from __future__ import annotations

from datetime import datetime, time

from hypothesis import given, strategies as st

from app.config import ConfigError, load_settings
from app.shifts import ShiftPattern

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "UTC",
         "America/Santiago")
# minutes of the day, biased towards the night hours where clocks change (00:00-03:59)
MINUTE = st.one_of(st.integers(0, 239), st.integers(0, 1439))
STARTS = st.sets(MINUTE, min_size=1, max_size=6).map(lambda s: [f"{m // 60:02d}:{m % 60:02d}" for m in sorted(s)])
# 2011 (Samoa skipped 30 Dec) to 2035, and often near a spring or fall change
TS = st.one_of(st.floats(1.29e9, 2.06e9), st.sampled_from([1774744200.0, 1792888200.0, 1772953200.0,
                                                           1793511000.0, 1325152800.0]).flatmap(
    lambda t: st.floats(t - 2 * 86400, t + 2 * 86400)))


@given(st.sampled_from(ZONES), STARTS, TS)
def test_shift_at_contains_and_neighbours_meet(zone: str, starts: list[str], ts: float) -> None:
    p = ShiftPattern(starts, zone)
    s = p.shift_at(ts)
    assert s.contains(ts)
    assert s.duration_s > 0
    prev, nxt = p.previous(s), p.next(s)
    assert prev.end_ts == s.start_ts and nxt.start_ts == s.end_ts
    assert p.next(prev) == s and p.previous(nxt) == s
    assert 0 <= s.index < len(starts)


@given(st.sampled_from(ZONES), STARTS, TS, st.floats(0, 5 * 86400))
def test_shifts_between_tile_the_range(zone: str, starts: list[str], a: float, length: float) -> None:
    p = ShiftPattern(starts, zone)
    shifts = p.shifts_between(a, a + length)
    if a + length <= a:
        assert shifts == []
        return
    assert shifts[0].contains(a)
    assert shifts[-1].end_ts >= a + length > shifts[-1].start_ts
    for x, y in zip(shifts, shifts[1:], strict=False):
        assert x.end_ts == y.start_ts  # no gap, no overlap
        assert x.duration_s > 0
    assert shifts == [p.shift_at(s.start_ts) for s in shifts]  # the one-pass list agrees with shift_at


@given(st.sampled_from(ZONES), STARTS, TS)
def test_each_shift_starts_at_its_start_time_or_the_clock_jump(zone: str, starts: list[str], ts: float) -> None:
    p = ShiftPattern(starts, zone)
    s = p.shift_at(ts)
    nominal = datetime.combine(s.local_date, p.starts[s.index], tzinfo=p.zone)
    if s.start_local().replace(tzinfo=None) != nominal.replace(tzinfo=None):
        # moved only if the clock never showed it that day, and then to the instant the clock jumped
        shown = datetime.fromtimestamp(nominal.timestamp(), p.zone).replace(tzinfo=None)
        assert shown != nominal.replace(tzinfo=None)
        assert s.start_local().utcoffset() != datetime.fromtimestamp(s.start_ts - 1, p.zone).utcoffset()
    else:
        assert s.start_ts == nominal.timestamp()  # fold=0: the first of a repeated time


@given(st.one_of(st.text(max_size=40), st.lists(st.text(max_size=8), max_size=30),
                 st.lists(st.times(), max_size=5)), st.text(max_size=70))
def test_hostile_shift_settings_are_a_config_error_or_valid(starts: object, zone: str) -> None:
    try:
        s = load_settings(environ={}, overrides={"shifts": {"starts": starts, "timezone": zone}})
    except ConfigError as err:
        assert "shifts." in str(err)
        return
    p = ShiftPattern(s.shifts.starts, s.shifts.timezone)  # whatever passed the settings model works
    assert all(isinstance(t, time) for t in p.starts)
