"""The operator logbook on a real SQLite file with the real store writer: hand-made entries over three shifts, the
carry-over flag across shifts and its clearing (role, audit), the checks on what is typed, an older database
that gets the table at open, a full disk (a real 8 MB tmpfs) that keeps an entry until it can be stored, and the
export's logbook part reading the table."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert, select

from app.export.parts import logbook_file
from app.logbook import Logbook, LogbookEntry, carried_over, check_text, logbook_entries
from app.shifts import ShiftPattern
from app.store import schema
from app.store.database import open_database
from app.store.status import CommitPending
from app.store.writer import StoreWriter
from app.users import PermissionDenied, Role, Session
from tests.fakes import FakeClock
from tests.support.filesystems import empty_wal, fill
from tests.support.waiting import wait_until

ZONE = "Europe/Berlin"
PATTERN = ShiftPattern(("06:00", "14:00", "22:00"), ZONE)
OPERATOR = Session("olga", Role.OPERATOR, 0.0)
TECHNICIAN = Session("tom", Role.TECHNICIAN, 0.0)
SUPERVISOR = Session("sam", Role.SUPERVISOR, 0.0)
ASSETS = ("P-101", "P-102")


def local(text: str) -> float:
    """Epoch seconds of a wall time in the plant's zone, e.g. "2026-12-03 07:30"."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(ZONE)).timestamp()


MakeLogbook = Callable[[Path], Logbook]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local("2026-12-03 07:00"))


@pytest.fixture
def make_logbook(clock: FakeClock) -> Iterator[MakeLogbook]:
    writers: list[StoreWriter] = []

    def make(db_path: Path) -> Logbook:
        db = open_database(db_path)
        writer = StoreWriter(db, raw_retention_s=86400)
        writer.start()
        writers.append(writer)
        with db.begin() as c:  # one stored alarm to tie entries to
            c.execute(insert(schema.alarms).values(
                id="a1", asset="P-102", kind="anomaly", priority="high", state="UNACK", raised_ts=clock.t,
                last_active_ts=clock.t, peak_score=2.0, top_channels="[]", message="P-102: anomaly"))
        return Logbook(db, writer, clock, assets=lambda: ASSETS,
                       alarm_asset=lambda i: "P-102" if i == "a1" else None)

    yield make
    for w in writers:
        w.stop()


@pytest.fixture
def book(make_logbook: MakeLogbook, tmp_path: Path) -> Logbook:
    return make_logbook(tmp_path / "vigil.db")


def audit(book: Logbook) -> list[tuple[str | None, str, dict]]:
    a = schema.audit_log
    with book._db.connect() as c:
        return [(r.user, r.action, json.loads(r.detail)) for r in c.execute(select(a).order_by(a.c.id))
                if r.action.startswith("logbook")]


def texts(entries: list[LogbookEntry] | tuple[LogbookEntry, ...]) -> list[str]:
    return [e.text for e in entries]


def test_entries_are_stored_with_who_when_and_what_they_are_tied_to(book: Logbook, clock: FakeClock) -> None:
    e = book.add_entry(OPERATOR, "  Pump P-101 noisy at start-up.\nChecked the coupling.\t ok  ", asset="P-101")
    assert e.id is not None and e.stored
    assert (e.ts, e.user, e.asset, e.alarm_id, e.carry_over) == (clock.t, "olga", "P-101", None, False)
    assert e.text == "Pump P-101 noisy at start-up.\nChecked the coupling.\t ok"  # stripped around, kept inside
    clock.t += 60
    tied = book.add_entry(TECHNICIAN, "Seal leak suspected", alarm_id="a1")
    assert tied.asset == "P-102"  # the alarm's asset, without being told
    assert logbook_entries(book._db, local("2026-12-03 06:00"), local("2026-12-03 14:00")) == [e, tied]
    assert audit(book) == [
        ("olga", "logbook entry", {"asset": "P-101", "alarm_id": None, "carry_over": False, "text": e.text}),
        ("tom", "logbook entry", {"asset": "P-102", "alarm_id": "a1", "carry_over": False,
                                  "text": "Seal leak suspected"}),
    ]


def test_a_flag_carries_an_entry_into_every_following_shift_until_a_supervisor_clears_it(
        book: Logbook, clock: FakeClock) -> None:
    clock.t = local("2026-12-03 07:00")  # early shift
    flagged = book.add_entry(OPERATOR, "P-102 bearing warm: keep an eye on it", asset="P-102", carry_over=True)
    book.add_entry(OPERATOR, "Nothing special")
    clock.t = local("2026-12-03 15:00")  # late shift
    book.add_entry(OPERATOR, "Late shift note")
    clock.t = local("2026-12-03 23:00")  # night shift
    late = book.view(PATTERN)
    assert late.shift.label.endswith("22:00-06:00")
    assert texts(late.carried_over) == ["P-102 bearing warm: keep an eye on it"]
    assert late.entries == ()
    for at in ("2026-12-03 14:00", "2026-12-03 22:00", "2026-12-04 06:00"):  # each later handover carries it
        assert texts(carried_over(book._db, local(at))) == [flagged.text]
    assert carried_over(book._db, local("2026-12-03 07:00")) == []  # not before it was written

    with pytest.raises(PermissionDenied, match="supervisor or higher"):
        book.clear_carry_over(TECHNICIAN, flagged.id or 0)
    clock.t = local("2026-12-04 06:30")  # cleared in the next early shift
    book.clear_carry_over(SUPERVISOR, flagged.id or 0)
    assert carried_over(book._db, local("2026-12-04 14:00")) == []  # no longer carried from now on...
    before = carried_over(book._db, local("2026-12-04 06:00"))  # ...but the 06:00 handover did carry it
    assert [(e.id, e.cleared_by, e.cleared_ts) for e in before] == [(flagged.id, "sam", clock.t)]
    assert book.view(PATTERN).carried_over == ()
    with pytest.raises(ValueError, match="cleared already by sam"):
        book.clear_carry_over(SUPERVISOR, flagged.id or 0)
    plain = book.view(PATTERN, local("2026-12-03 08:00")).entries[0]
    with pytest.raises(ValueError, match="not flagged"):
        book.clear_carry_over(SUPERVISOR, plain.id or 0)
    with pytest.raises(ValueError, match="no logbook entry 999"):
        book.clear_carry_over(SUPERVISOR, 999)
    assert audit(book)[-1] == ("sam", "logbook flag cleared",
                               {"entry_id": flagged.id, "entry_user": "olga", "entry_ts": flagged.ts})


def test_the_view_shows_the_shift_newest_first(book: Logbook, clock: FakeClock) -> None:
    for i, at in enumerate(("06:00", "09:15", "13:59")):
        clock.t = local(f"2026-12-03 {at}")
        book.add_entry(OPERATOR, f"entry {i}")
    clock.t = local("2026-12-03 14:00")
    book.add_entry(OPERATOR, "next shift")
    view = book.view(PATTERN, local("2026-12-03 10:00"))
    assert texts(view.entries) == ["entry 2", "entry 1", "entry 0"]  # [06:00, 14:00), newest first
    assert texts(book.view(PATTERN).entries) == ["next shift"]


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"), (" \n\t ", "empty"), ("x" * 2001, r"too long \(2001 characters; at most 2000\)"),
    ("bell\x07", r"control character \(U\+0007"), ("esc \x1b[31m red", r"U\+001B"),
    ("nul\x00byte", r"U\+0000"), ("del\x7f", r"U\+007F"), ("c1 \x85 next line", r"U\+0085"),
    ("lone\rcarriage return", r"U\+000D"),
    ("safe\u202eexe.txt", "text-direction character"), ("broken \ud800", "unpaired surrogate"),
])
def test_hostile_text_is_refused_with_what_is_wrong(book: Logbook, text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        book.add_entry(OPERATOR, text)
    assert logbook_entries(book._db, 0, 4e9) == [] and audit(book) == []


def test_text_at_the_limits_is_kept_exactly() -> None:
    assert check_text("x" * 2000) == "x" * 2000
    assert check_text("  " + "x" * 2000 + "\n\n") == "x" * 2000  # the limit counts what is kept
    assert check_text("Zeile 1\r\nZeile 2 \u2013 \u00e4\u00f6\u00fc \u6cf5 \U0001f527") == \
        "Zeile 1\nZeile 2 \u2013 \u00e4\u00f6\u00fc \u6cf5 \U0001f527"


def test_an_entry_names_only_known_assets_and_alarms(book: Logbook) -> None:
    with pytest.raises(ValueError, match="no asset 'P-999'; allowed: P-101, P-102"):
        book.add_entry(OPERATOR, "text", asset="P-999")
    with pytest.raises(ValueError, match="no alarm 'nope'"):
        book.add_entry(OPERATOR, "text", alarm_id="nope")
    with pytest.raises(ValueError, match="alarm a1 belongs to P-102, not P-101"):
        book.add_entry(OPERATOR, "text", asset="P-101", alarm_id="a1")
    with pytest.raises(PermissionDenied):
        book.add_entry(None, "text")  # type: ignore[arg-type]  # nobody logged in
    assert logbook_entries(book._db, 0, 4e9) == []


def test_a_database_from_before_the_logbook_gets_the_table_at_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_engine(f"sqlite:///{path}")
    schema.metadata.create_all(old, tables=[t for t in schema.metadata.sorted_tables if t.name != "logbook"])
    old.dispose()
    with sqlite3.connect(path) as con:
        assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'logbook'").fetchall()
    db = open_database(path)
    with db.connect() as c:
        cols = {r[1]: (r[2], r[3]) for r in c.exec_driver_sql("PRAGMA table_info(logbook)")}
        indexes = {r[1] for r in c.exec_driver_sql("PRAGMA index_list(logbook)")}
    assert cols == {"id": ("INTEGER", 1), "ts": ("FLOAT", 1), "user": ("VARCHAR(64)", 1), "text": ("TEXT", 1),
                    "asset": ("VARCHAR(64)", 0), "alarm_id": ("VARCHAR(36)", 0), "carry_over": ("BOOLEAN", 1),
                    "cleared_by": ("VARCHAR(64)", 0), "cleared_ts": ("FLOAT", 0)}
    assert {"ix_logbook_ts", "ix_logbook_carry_over"} <= indexes
    db.dispose()


def test_an_entry_written_on_a_full_disk_is_kept_shown_and_stored_once_space_is_freed(
        make_logbook: MakeLogbook, small_tmpfs: Path, clock: FakeClock) -> None:
    db_path = small_tmpfs / "vigil.db"
    book = make_logbook(db_path)
    book.add_entry(OPERATOR, "before the disk filled")
    empty_wal(db_path)
    ballast = fill(small_tmpfs)
    clock.t += 60
    text = "Written while the disk was full " + "\u00e4" * 500
    with pytest.raises(CommitPending, match="STORAGE FULL") as pending:
        book.add_entry(OPERATOR, text, asset="P-101", carry_over=True)
    kept = pending.value.result
    assert isinstance(kept, LogbookEntry) and kept.id is None and kept.text == text
    view = book.view(PATTERN)  # shown meanwhile, as not stored yet
    assert [(e.text, e.stored) for e in view.entries] == [(text, False), ("before the disk filled", True)]
    assert texts(logbook_entries(book._db, 0, 4e9)) == ["before the disk filled"]  # truly not on disk

    ballast.unlink()  # space is freed: the writer's retry stores it, once
    wait_until(lambda: len(logbook_entries(book._db, 0, 4e9)) == 2, 30, "the kept entry to be stored")
    wait_until(lambda: not book.pending(), 10, "the entry to stop showing as waiting")
    stored = logbook_entries(book._db, 0, 4e9)[1]
    assert (stored.text, stored.user, stored.asset, stored.carry_over, stored.ts) == (text, "olga", "P-101", True,
                                                                                        kept.ts)
    assert [e.stored for e in book.view(PATTERN).entries] == [True, True]
    assert [a[2]["text"] for a in audit(book)] == ["before the disk filled", text]


def test_the_export_writes_the_logbook_with_iso_times_in_the_plant_zone(book: Logbook, clock: FakeClock) -> None:
    clock.t = local("2026-07-01 07:00")  # summer time: +02:00
    summer = book.add_entry(OPERATOR, 'Quote " comma , and\nnew line', asset="P-101", carry_over=True)
    clock.t = local("2026-12-03 07:00")  # winter: +01:00
    book.add_entry(TECHNICIAN, "=1+1 not a formula", alarm_id="a1")
    book.clear_carry_over(SUPERVISOR, summer.id or 0)
    db_path = book._db.url.database
    assert db_path is not None
    with sqlite3.connect(db_path) as con:
        part = logbook_file(con, local("2026-01-01 00:00"), local("2027-01-01 00:00"), ZoneInfo(ZONE))
        assert part is not None and part.name == "logbook.csv"
        data = b"".join(chunk for chunk, _n in part.chunks()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert [r["ts"] for r in rows] == ["2026-07-01T07:00:00.000+02:00", "2026-12-03T07:00:00.000+01:00"]
    assert rows[0]["text"] == 'Quote " comma , and\nnew line' and rows[0]["user"] == "olga"
    assert rows[0]["cleared_by"] == "sam" and rows[0]["cleared_ts"] == "2026-12-03T07:00:00.000+01:00"
    assert rows[1]["alarm_id"] == "a1" and rows[1]["asset"] == "P-102" and rows[1]["cleared_ts"] == ""
    assert rows[1]["text"].endswith("=1+1 not a formula")  # however the export guards formulas, the text is there
