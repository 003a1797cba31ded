"""The shift pattern (app/shifts.py) on known calendar facts: daylight-saving nights in Europe/Berlin and
America/New_York (7 h and 9 h night shifts), the rule for a start time in the spring gap (the next valid instant)
and in the repeated fall hour (the first occurrence), labels, and the [shifts] setting with its errors."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.config import ConfigError, load_settings
from app.shifts import MAX_STARTS, ShiftPattern, parse_starts, resolve_zone

H = 3600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


BERLIN = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
NEW_YORK = ShiftPattern(["06:00", "14:00", "22:00"], "America/New_York")


def test_a_plain_day_has_three_eight_hour_shifts_with_labels() -> None:
    shifts = BERLIN.shifts_between(utc(2026, 12, 3, 5, 0), utc(2026, 12, 4, 5, 0))  # 06:00 CET to 06:00 CET
    assert [s.label for s in shifts] == ["Thu 03 Dec, 06:00-14:00", "Thu 03 Dec, 14:00-22:00",
                                         "Thu 03 Dec, 22:00-06:00"]
    assert [s.duration_s for s in shifts] == [8 * H] * 3
    assert shifts[0].start_ts == utc(2026, 12, 3, 5, 0)
    assert [(s.local_date, s.index) for s in shifts] == [(date(2026, 12, 3), i) for i in range(3)]
    assert shifts[0].key == "2026-12-03#0"


@pytest.mark.parametrize(("pattern", "night", "hours", "label"), [
    (BERLIN, date(2026, 3, 28), 7, "Sat 28 Mar, 22:00-06:00"),  # spring forward (02:00 -> 03:00)
    (BERLIN, date(2026, 10, 24), 9, "Sat 24 Oct, 22:00-06:00"),  # fall back (03:00 -> 02:00)
    (NEW_YORK, date(2026, 3, 7), 7, "Sat 07 Mar, 22:00-06:00"),
    (NEW_YORK, date(2026, 10, 31), 9, "Sat 31 Oct, 22:00-06:00"),
])
def test_the_night_shift_over_a_clock_change_is_7_or_9_hours(pattern: ShiftPattern, night: date, hours: int,
                                                              label: str) -> None:
    s = pattern.shift_on(night, 2)
    assert s.duration_s == hours * H
    assert s.label == label
    # the day shifts around it are untouched
    assert pattern.previous(s).duration_s == 8 * H
    assert pattern.next(s).duration_s == 8 * H


@pytest.mark.parametrize(("zone", "day", "start_utc", "previous_h"), [
    # 02:30 does not exist: the clock jumps from 02:00 to 03:00; the shift starts at 03:00 local (the jump)
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 1, 0), 8.0),  # 18:00 CET -> 03:00 CEST
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 0), 8.0),  # 18:00 EST -> 03:00 EDT
])
def test_a_start_in_the_spring_gap_begins_at_the_next_valid_instant(zone: str, day: date, start_utc: float,
                                                                     previous_h: float) -> None:
    p = ShiftPattern(["02:30", "10:00", "18:00"], zone)
    s = p.shift_on(day, 0)
    assert s.start_ts == start_utc
    assert s.start_local().hour == 3 and s.start_local().minute == 0
    assert s.label.endswith("03:00-10:00")
    assert s.duration_s == 7 * H
    assert p.previous(s).duration_s == previous_h * H
    assert p.shift_at(start_utc - 1).end_ts == start_utc  # no gap before it


@pytest.mark.parametrize(("zone", "starts", "day", "start_utc", "hours", "previous_h"), [
    # 02:30 happens twice (03:00 CEST -> 02:00 CET): the first, still in summer time (fold=0); the extra hour is
    # split: 18:00 CEST -> 02:30 CEST is 8.5 h, 02:30 CEST -> 10:00 CET is 8.5 h
    ("Europe/Berlin", ["02:30", "10:00", "18:00"], date(2026, 10, 25), utc(2026, 10, 25, 0, 30), 8.5, 8.5),
    # 01:30 happens twice (02:00 EDT -> 01:00 EST): 01:30 EDT -> 09:30 EST is 9 h
    ("America/New_York", ["01:30", "09:30", "17:30"], date(2026, 11, 1), utc(2026, 11, 1, 5, 30), 9.0, 8.0),
])
def test_a_start_in_the_repeated_fall_hour_is_its_first_occurrence(zone: str, starts: list[str], day: date,
                                                                   start_utc: float, hours: float,
                                                                   previous_h: float) -> None:
    p = ShiftPattern(starts, zone)
    s = p.shift_on(day, 0)
    assert s.start_ts == start_utc
    assert s.duration_s == hours * H
    assert p.previous(s).duration_s == previous_h * H
    assert p.shift_at(start_utc + 1.5 * H) == s  # the second 02:30 (or 01:30) is inside it, not a new shift


def test_two_starts_in_one_gap_leave_no_empty_shift() -> None:
    p = ShiftPattern(["02:00", "02:30", "12:00"], "Europe/Berlin")
    day = p.shifts_between(utc(2026, 3, 28, 11, 0), utc(2026, 3, 29, 12, 0))
    assert all(s.duration_s > 0 for s in day)
    spring = [s for s in day if s.local_date == date(2026, 3, 29)]
    assert [(s.index, s.start_ts) for s in spring] == [(1, utc(2026, 3, 29, 1, 0)), (2, utc(2026, 3, 29, 10, 0))]
    assert p.shift_on(date(2026, 3, 29), 0) == spring[0]  # the 02:00 shift does not exist that day: the one running
    for a, b in zip(day, day[1:], strict=False):
        assert a.end_ts == b.start_ts


def test_shift_at_is_half_open_and_previous_next_are_neighbours() -> None:
    s = BERLIN.shift_at(utc(2026, 12, 3, 9, 0))
    assert s.label == "Thu 03 Dec, 06:00-14:00"
    assert BERLIN.shift_at(s.start_ts) == s
    assert BERLIN.shift_at(s.end_ts - 0.001) == s
    assert BERLIN.shift_at(s.end_ts) == BERLIN.next(s)
    assert BERLIN.previous(s).label == "Wed 02 Dec, 22:00-06:00"
    assert BERLIN.next(BERLIN.previous(s)) == s


def test_shifts_between_counts_and_bounds() -> None:
    start = utc(2026, 12, 1, 5, 0)
    assert len(BERLIN.shifts_between(start, start + 30 * 24 * H)) == 90
    part = BERLIN.shifts_between(start + H, start + 9 * H)  # inside the first, into the second
    assert [s.label for s in part] == ["Tue 01 Dec, 06:00-14:00", "Tue 01 Dec, 14:00-22:00"]
    assert BERLIN.shifts_between(start, start) == []
    assert BERLIN.shifts_between(start, start - 10) == []
    with pytest.raises(ValueError, match="not a time"):
        BERLIN.shifts_between(float("nan"), start)
    with pytest.raises(ValueError, match="not a time"):
        BERLIN.shift_at(float("inf"))


def test_one_start_gives_one_shift_a_day() -> None:
    p = ShiftPattern(["07:00"], "UTC")
    s = p.shift_at(utc(2026, 12, 3, 12, 0))
    assert (s.start_ts, s.duration_s, s.label) == (utc(2026, 12, 3, 7, 0), 24 * H, "Thu 03 Dec, 07:00-07:00")


@pytest.mark.parametrize(("starts", "complaint"), [
    ([], "no shift start given"),
    (["6:00"], "'6:00' is not a time HH:MM"),
    (["24:00"], "'24:00' is not a time HH:MM"),
    (["06:60"], "'06:60' is not a time HH:MM"),
    (["06:00 "], "is not a time HH:MM"),
    (["14:00", "06:00"], "06:00 is listed after 14:00"),
    (["06:00", "06:00"], "06:00 is given twice"),
    ([f"{h:02d}:30" for h in range(24)] + ["23:45"], f"{MAX_STARTS + 1} shift starts"),
    ([600], "600 is not text"),
    ("06:00", "must be a list"),
])
def test_bad_start_times_are_refused_naming_what_is_allowed(starts: object, complaint: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_starts(starts)  # type: ignore[arg-type]
    assert complaint in str(err.value)
    assert 'allowed: 1 to 24 local times "HH:MM"' in str(err.value)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Europe/Berlin\x00",
                                  "Europe//Berlin", "x" * 200, "Europe/Berlin/../Paris"])
def test_bad_time_zones_are_refused_naming_what_is_allowed(name: str) -> None:
    with pytest.raises(ValueError, match="allowed: an IANA time zone name"):
        resolve_zone(name)


def test_empty_zone_is_the_systems_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert ShiftPattern(["06:00"]).zone.key == "America/New_York"
    assert ShiftPattern(["06:00"], "").zone.key == "America/New_York"
    monkeypatch.setenv("TZ", "no such zone")
    assert ShiftPattern(["06:00"]).shift_at(utc(2026, 12, 3)).duration_s == 24 * H  # falls back, still works


def test_shift_setting_from_the_file_and_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text('[shifts]\nstarts = ["06:00", 18:00:00]\ntimezone = "America/New_York"\n')
    s = load_settings(cfg, environ={})
    assert (s.shifts.starts, s.shifts.timezone) == (["06:00", "18:00"], "America/New_York")
    assert ShiftPattern(s.shifts.starts, s.shifts.timezone).shift_on(date(2026, 12, 3), 1).duration_s == 12 * H
    s = load_settings(environ={"VIGIL_SHIFTS__STARTS": "05:30, 13:30,21:30", "VIGIL_SHIFTS__TIMEZONE": "UTC"})
    assert s.shifts.starts == ["05:30", "13:30", "21:30"]
    default = load_settings(environ={}).shifts
    assert (default.starts, default.timezone) == (["06:00", "14:00", "22:00"], "")


@pytest.mark.parametrize(("env", "key", "shown", "allowed"), [
    ({"VIGIL_SHIFTS__STARTS": "14:00,06:00"}, "shifts.starts", "'14:00,06:00'", "in increasing order"),
    ({"VIGIL_SHIFTS__STARTS": "six"}, "shifts.starts", "'six'", 'local times "HH:MM"'),
    ({"VIGIL_SHIFTS__STARTS": ""}, "shifts.starts", "''", "no shift start given"),
    ({"VIGIL_SHIFTS__TIMEZONE": "Europe/Atlantis"}, "shifts.timezone", "'Europe/Atlantis'", "IANA time zone"),
])
def test_bad_shift_settings_stop_start_up_with_key_value_and_allowed(env: dict[str, str], key: str, shown: str,
                                                                     allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    msg = str(err.value)
    assert f"{key} = {shown}" in msg and allowed in msg and next(iter(env)) in msg


def test_bad_shift_setting_in_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text('[shifts]\nstarts = ["06:00", 06:00:30]\n')  # a TOML time with seconds
    with pytest.raises(ConfigError, match=r"shifts.starts = .*\(in v.toml\): .*has seconds or a zone"):
        load_settings(cfg, environ={})
    cfg.write_text('[shifts]\nstarts = 6\n')
    with pytest.raises(ConfigError, match="shifts.starts = 6 .*list"):
        load_settings(cfg, environ={})
    cfg.write_text('[shifts]\nstarts = "06:00, 18:00"\n')  # the environment's form is taken in the file too
    assert load_settings(cfg, environ={}).shifts.starts == ["06:00", "18:00"]
