"""The alarm journal's queries (app/store/journal.py) against a real SQLite file: each filter, hostile search text,
paging that stays stable under every sort, one alarm's trail, and the indexes added to an older database."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.store import schema
from app.store.database import open_database
from app.store.journal import (
    MAX_TEXT,
    JournalQuery,
    JournalSort,
    alarm_trail,
    journal_alarm,
    journal_page,
    like_pattern,
)
from detection.failure_modes import FailureMode
from tests.support.journal_db import StoredAlarms

S, P, E = AlarmState, Priority, AlarmEvent


@pytest.fixture
def store(tmp_path: Path) -> StoredAlarms:
    s = StoredAlarms(tmp_path / "journal.db")
    s.alarm("a1", "P-101", 1000, P.HIGH, S.UNACK, message="P-101: anomaly (driven by flow 70%)")
    s.alarm("a2", "P-102", 2000, P.LOW, S.NORM, cleared_ts=2100, message="P-102: anomaly_x (driven by vib_de)")
    s.event("a2", 2050, E.ACKNOWLEDGED, S.ACKED, "ana", "Checked pump on site")
    s.event("a2", 2100, E.CLEARED, S.NORM)
    s.alarm("a3", "P-103", 3000, P.MEDIUM, S.SHLVD, kind=AlarmKind.DIAGNOSTIC,
            message="P-103: communication lost")
    s.event("a3", 3010, E.SHELVED, S.SHLVD, "tom", "Known cause, it's \"fine\"")
    s.alarm("a4", "P-101", 4000, P.MEDIUM, S.ACKED, cloud_failure_mode=FailureMode.CAVITATION.value)
    s.alarm("a5", "P-104", 5000, P.LOW, S.NORM, cleared_ts=5050)
    s.label("a5", 5100, "tech", "failure", FailureMode.BEARING_WEAR.value, "first guess")
    s.label("a5", 5200, "tech2", "failure", FailureMode.SEAL_LEAK.value, "seal was leaking")
    return s


def ids(q: JournalQuery, store: StoredAlarms) -> list[str]:
    page = journal_page(store.db, q)
    return [r.alarm.id for r in page.rows]


def test_no_filter_lists_every_alarm_newest_first(store: StoredAlarms) -> None:
    page = journal_page(store.db, JournalQuery())
    assert [r.alarm.id for r in page.rows] == ["a5", "a4", "a3", "a2", "a1"]
    assert page.total == 5 and page.pages == 1 and page.first == 1
    assert page.assets == ("P-101", "P-102", "P-103", "P-104")  # every asset with a stored alarm, for the filter


@pytest.mark.parametrize(("query", "expected"), [
    (JournalQuery(since=2000, until=4000), {"a2", "a3"}),  # since <= raised < until
    (JournalQuery(assets=frozenset({"P-101"})), {"a1", "a4"}),
    (JournalQuery(assets=frozenset({"P-101", "P-104"})), {"a1", "a4", "a5"}),
    (JournalQuery(priorities=frozenset({P.MEDIUM})), {"a3", "a4"}),
    (JournalQuery(priorities=frozenset({P.HIGH, P.LOW})), {"a1", "a2", "a5"}),
    (JournalQuery(states=frozenset({S.NORM})), {"a2", "a5"}),
    (JournalQuery(states=frozenset({S.SHLVD, S.UNACK})), {"a1", "a3"}),
    (JournalQuery(kinds=frozenset({AlarmKind.DIAGNOSTIC})), {"a3"}),
    (JournalQuery(kinds=frozenset({AlarmKind.ANOMALY})), {"a1", "a2", "a4", "a5"}),
    (JournalQuery(failure_modes=frozenset({FailureMode.CAVITATION})), {"a4"}),  # the cloud's diagnosis
    (JournalQuery(failure_modes=frozenset({FailureMode.SEAL_LEAK})), {"a5"}),  # the latest label revision
    (JournalQuery(failure_modes=frozenset({FailureMode.BEARING_WEAR})), set()),  # an earlier revision: not now
    (JournalQuery(text="checked PUMP"), {"a2"}),  # a note on the trail, any case
    (JournalQuery(text="ANA"), {"a2"}),  # who did it
    (JournalQuery(text="seal was"), {"a5"}),  # a label's note
    (JournalQuery(text="communication"), {"a3"}),  # the message
    (JournalQuery(text="p-104"), {"a5"}),  # the asset
    (JournalQuery(assets=frozenset({"P-101"}), priorities=frozenset({P.MEDIUM}), since=3500), {"a4"}),
])
def test_each_filter(store: StoredAlarms, query: JournalQuery, expected: set[str]) -> None:
    page = journal_page(store.db, query)
    assert {r.alarm.id for r in page.rows} == expected
    assert page.total == len(expected)


@pytest.mark.parametrize(("needle", "expected"), [
    ("%", {"a1"}),  # literally a percent sign: only the message that has one
    ("70%", {"a1"}),
    ("_", {"a2"}),  # literally an underscore ("anomaly_x"), not "any one character"
    ("y_x", {"a2"}),
    ("'", {"a3"}),  # a quote in a note ("it's")
    ('"fine"', {"a3"}),
    ("'; DROP TABLE alarms; --", set()),
    ("\\", set()),
    ("[a-z]*", set()),
])
def test_hostile_search_text_is_matched_literally(store: StoredAlarms, needle: str, expected: set[str]) -> None:
    assert set(ids(JournalQuery(text=needle), store)) == expected
    with store.db.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.alarms)).scalar() == 5


def test_a_10_kb_search_text_is_refused_with_the_limit(store: StoredAlarms) -> None:
    with pytest.raises(ValueError, match=f"10240 characters; at most {MAX_TEXT}"):
        JournalQuery(text="x" * 10240)


def test_the_longest_note_can_be_found_whole(store: StoredAlarms) -> None:
    note = ("long note %_' " * 200)[:MAX_TEXT]
    store.alarm("a6", "P-105", 6000, user="ana", note=note)
    assert ids(JournalQuery(text=note), store) == ["a6"]


def test_like_pattern_escapes_wildcards_and_the_escape() -> None:
    assert like_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"


def test_unknown_words_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="journal priorities: .*'urgent'.*low, medium, high"):
        JournalQuery(priorities=frozenset({"urgent"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="journal failure_modes"):
        JournalQuery(failure_modes=frozenset({"rust"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="page_size"):
        JournalQuery(page_size=0)
    with pytest.raises(ValueError, match="since"):
        JournalQuery(since=float("nan"))


@pytest.mark.parametrize("sort", list(JournalSort))
def test_paging_is_stable_under_every_sort(tmp_path: Path, sort: JournalSort) -> None:
    """Many alarms share a raised time and a priority: the pages still partition the whole list, in order."""
    s = StoredAlarms(tmp_path / "paging.db")
    for i in range(53):
        s.alarm(f"id{i:03d}", f"P-{100 + i % 4}", 1000.0 + i // 5, list(P)[i % 3])
    whole = ids(JournalQuery(sort=sort, page_size=500), s)
    paged: list[str] = []
    for page in range(6):
        paged += ids(JournalQuery(sort=sort, page=page, page_size=10), s)
    assert paged == whole and len(set(paged)) == 53
    assert ids(JournalQuery(sort=sort, page=2, page_size=10), s) == whole[20:30]  # the same page twice: same rows
    rows = journal_page(s.db, JournalQuery(sort=sort, page_size=500)).rows
    keys = {JournalSort.NEWEST: lambda r: -r.alarm.raised_ts, JournalSort.OLDEST: lambda r: r.alarm.raised_ts,
            JournalSort.PRIORITY: lambda r: -r.alarm.priority.rank, JournalSort.ASSET: lambda r: r.alarm.asset}
    assert [keys[sort](r) for r in rows] == sorted(keys[sort](r) for r in rows)


def test_rows_carry_the_alarm_and_its_trail_summary(store: StoredAlarms) -> None:
    rows = {r.alarm.id: r for r in journal_page(store.db, JournalQuery()).rows}
    a2 = rows["a2"]
    assert a2.alarm.state is S.NORM and a2.alarm.cleared_ts == 2100 and a2.alarm.priority is P.LOW
    assert (a2.events, a2.last_ts, a2.last_event) == (3, 2100, E.CLEARED)
    assert rows["a3"].alarm.state is S.SHLVD and rows["a3"].alarm.overlay is S.SHLVD
    assert rows["a5"].alarm.label is not None and rows["a5"].alarm.label.failure_mode == "seal_leak"
    assert (rows["a5"].events, rows["a5"].last_ts) == (3, 5200)
    assert rows["a4"].alarm.cloud.failure_mode == "cavitation"


def test_trail_has_every_event_and_label_revision_in_order(store: StoredAlarms) -> None:
    store.event("a5", 5300, E.CLOUD_CONFIRMED, S.NORM, None, "cloud confirmed: seal leak - LOW")
    trail = alarm_trail(store.db, "a5")
    assert [(e.ts, e.event, e.user, e.revision) for e in trail] == [
        (5000, E.RAISED, None, 0), (5100, E.LABELLED, "tech", 1), (5200, E.LABELLED, "tech2", 2),
        (5300, E.CLOUD_CONFIRMED, None, 0)]
    assert trail[2].label is not None and trail[2].label.failure_mode == "seal_leak"
    assert trail[2].note == "seal was leaking" and trail[3].note == "cloud confirmed: seal leak - LOW"
    a2 = alarm_trail(store.db, "a2")
    assert [(e.event, e.state, e.user, e.note) for e in a2] == [
        (E.RAISED, S.UNACK, None, None), (E.ACKNOWLEDGED, S.ACKED, "ana", "Checked pump on site"),
        (E.CLEARED, S.NORM, None, None)]
    assert alarm_trail(store.db, "nope") == []


def test_journal_alarm_reads_one_stored_alarm(store: StoredAlarms) -> None:
    a = journal_alarm(store.db, "a5")
    assert a is not None and a.asset == "P-104" and a.label is not None and a.label.user == "tech2"
    assert journal_alarm(store.db, "nope") is None


def test_an_older_database_gets_the_journal_indexes_at_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(path)
    with db.begin() as c:
        for name in ("ix_alarms_raised", "ix_alarms_state_raised", "ix_alarm_events_alarm_ts", "ix_labels_alarm"):
            c.execute(text(f"DROP INDEX {name}"))
        c.execute(text("DROP TABLE alembic_version"))  # a database from before Alembic
    db.dispose()
    db = open_database(path)
    with db.connect() as c:
        have = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        plan = " ".join(str(r[-1]) for r in c.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM alarms WHERE state = 'NORM' ORDER BY raised_ts DESC LIMIT 50")))
    assert {"ix_alarms_raised", "ix_alarms_state_raised", "ix_alarm_events_alarm_ts", "ix_labels_alarm"} <= have
    assert "ix_alarms_state_raised" in plan
