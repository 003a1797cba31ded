"""Each KPI against its target (app/kpi/targets.py, shared by the KPI screen and the handover PDF), on reports over
hand-made alarms in a real SQLite file: the rate's three bands, a flood above the 1 % target, the peak and the
priority split, chattering and the bad actors; the words for shares and durations."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.alarm_model import Priority
from app.kpi.targets import Status, duration, kpi_lines, pct
from tests.app.test_kpis import T0, H, Store, chatter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kpi.db")
    yield s
    s.db.dispose()


def lines(store: Store, start: float, end: float) -> dict[str, tuple[str, str, Status]]:
    return {x.key: (x.value, x.target, x.status) for x in kpi_lines(store.report(start, end))}


@pytest.mark.parametrize(("n", "value", "status"), [(6, "1.00", Status.WITHIN), (9, "1.50", Status.MANAGEABLE),
                                                    (13, "2.17", Status.ABOVE)])
def test_the_rate_against_its_bands(store: Store, n: int, value: str, status: Status) -> None:
    for k in range(n):  # spread over the hour, one pump each: no flood, no chattering
        store.raised(T0 + k * 3600 / n, f"P-{101 + k}")
    got = lines(store, T0, T0 + H)
    assert got["rate"] == (value, "<= 1 (max 2)", status)
    assert got["chattering"] == ("0", "0", Status.WITHIN)


def test_a_flood_is_above_its_targets(store: Store) -> None:
    for k in range(12):
        store.raised(T0 + H + 50 * k, f"P-{101 + k}")
    got = lines(store, T0, T0 + 2 * H)  # 450 s of flood in 7200 s
    assert got["flood"] == ("6.2 %", "< 1.0 %", Status.ABOVE)
    assert got["peak"] == ("12", "<= 10", Status.ABOVE)
    assert got["floods"] == ("1 (8.3 %)", "", Status.INFO)
    assert got["bad_actors"][2] is Status.ABOVE  # 10 of 12 sources make 83 % of the load


def test_priority_split_too_many_high_is_above_target(store: Store) -> None:
    for k in range(16):
        store.raised(T0 + 200 * k, f"P-{101 + k}", priority=Priority.LOW)
    for k in range(3):
        store.raised(T0 + 100 + 200 * k, f"P-{130 + k}", priority=Priority.MEDIUM)
    store.raised(T0 + 150, "P-140", priority=Priority.HIGH)
    assert lines(store, T0, T0 + H)["priorities"] == ("80 / 15 / 5.0 %", "80 / 15 / 5 %", Status.WITHIN)
    store.raised(T0 + 160, "P-141", priority=Priority.HIGH)
    store.raised(T0 + 170, "P-142", priority=Priority.HIGH)  # 3 of 22: 14 % high
    assert lines(store, T0, T0 + H)["priorities"][2] is Status.ABOVE


def test_chattering_and_an_empty_range(store: Store) -> None:
    store.alarm(chatter(T0 + 100, [20, 20]), "P-101")  # three within 40 s
    assert lines(store, T0, T0 + H)["chattering"] == ("1", "0", Status.ABOVE)
    empty = lines(store, T0 + 2 * H, T0 + 3 * H)
    assert empty["rate"] == ("0.00", "<= 1 (max 2)", Status.WITHIN)
    assert empty["bad_actors"] == ("0 %", "<= 5.0 %", Status.INFO)  # no load: nothing to judge
    assert empty["priorities"][2] is Status.INFO
    assert empty["ack"] == ("- / -", "", Status.INFO)


@pytest.mark.parametrize(("share", "text"), [(None, "-"), (0.0, "0 %"), (0.004, "0.4 %"), (0.0625, "6.2 %"),
                                             (0.1, "10 %"), (0.805, "80 %"), (1.0, "100 %")])
def test_percent_words(share: float | None, text: str) -> None:
    assert pct(share) == text


@pytest.mark.parametrize(("s", "text"), [(None, "-"), (0.4, "0 s"), (45, "45 s"), (245.6, "4 min 06 s"),
                                         (3600, "1 h 00 min"), (7860, "2 h 11 min")])
def test_duration_words(s: float | None, text: str) -> None:
    assert duration(s) == text
