"""The audit log's hash chain on real SQLite files: every way of tampering from issue 9 is found at open and the
report says where; an older database is migrated in place; the engine publishes what it found."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from app import audit_chain, audit_check, events
from app.audit_chain import AuditAppended
from app.audit_check import BreakKind, ChainReport
from app.config import UserSettings
from app.engine import Engine
from app.store import schema
from app.store.database import open_database
from app.store.user_rows import UserRemoved
from app.store.writer import StoreWriter, Write
from app.users import UserDirectory
from tests.ui.conftest import fault_station, make_settings

ROWS = 30


def write_log(db_path: Path, n: int = ROWS, users: bool = True) -> None:
    """A database as Vigil leaves it: demo users (4 audit rows), then logins up to ``n`` audit rows in all."""
    db = open_database(db_path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    try:
        done = 0
        if users:
            UserDirectory(db, writer, UserSettings()).seed_demo_users()
            done = 4
        for i in range(done, n):
            writer.submit(Write([AuditAppended(1000.0 + i, "operator", "login", {"role": "operator"})])).result(10)
    finally:
        writer.stop()
        db.dispose()


def reopen(db_path: Path) -> ChainReport:
    db = open_database(db_path)
    report = audit_check.report_at_open(db)
    db.dispose()
    assert report is not None
    return report


def sql(db_path: Path, *statements: str) -> None:
    """Tamper as an attacker with the file would: plain sqlite3, no Vigil code."""
    con = sqlite3.connect(db_path)
    with con:
        for s in statements:
            con.execute(s)
    con.close()


def test_an_untouched_log_verifies_at_every_open(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    write_log(db_path)
    for _ in range(2):
        report = reopen(db_path)
        assert report.ok and report.checked_rows == ROWS, report
    assert reopen(db_path).summary() == f"audit log intact ({ROWS} chained rows verified)"


SWAP_5_6 = ("UPDATE audit_log SET id = -5 WHERE id = 5", "UPDATE audit_log SET id = 5 WHERE id = 6",
            "UPDATE audit_log SET id = 6 WHERE id = -5")

TAMPERING: dict[str, tuple[tuple[str, ...], BreakKind, int | None, str]] = {
    "rows deleted in the middle": (("DELETE FROM audit_log WHERE id BETWEEN 10 AND 14",), BreakKind.ROWS_MISSING,
                                   15, "between row 9 and row 15"),
    "an admin login rewritten": (("UPDATE audit_log SET user = 'admin', detail = '{\"role\": \"admin\"}' "
                                  "WHERE id = 8",), BreakKind.EDITED, 8, "row 8 ('login') was edited"),
    "a time changed": (("UPDATE audit_log SET ts = ts - 3600 WHERE id = 3",), BreakKind.EDITED, 3, "row 3"),
    "two rows swapped": (SWAP_5_6, BreakKind.MISPLACED, 5, "row 5 ('login') is not the row written after row 4"),
    "the end cut off": (("DELETE FROM audit_log WHERE id > 26",), BreakKind.TRUNCATED, 26,
                        "ends at row 26 but the last row written was row 30"),
    "the end cut off and the head moved back": (("DELETE FROM audit_log WHERE id > 26",
                                                 "UPDATE audit_chain_head SET last_id = 26, rows = 26, last_hash = "
                                                 "(SELECT chain_hash FROM audit_log WHERE id = 26)"),
                                                BreakKind.HEAD_ALTERED, None, "head was altered"),
    "the head deleted": (("DELETE FROM audit_chain_head",), BreakKind.HEAD_MISSING, None, "head is gone"),
    "a row added by hand": (("INSERT INTO audit_log (ts, user, action) VALUES (5000, 'admin', 'login')",),
                            BreakKind.ADDED, 31, "row 31 ('login') has no chain hash"),
    "a chained row copied to the end": (("INSERT INTO audit_log (ts, user, action, detail, prev_hash, chain_hash) "
                                         "SELECT ts, user, action, detail, prev_hash, chain_hash FROM audit_log "
                                         "WHERE id = 30",), BreakKind.MISPLACED, 31, "row 31"),
    "the first row deleted": (("DELETE FROM audit_log WHERE id = 1",), BreakKind.START_MISSING, 2,
                              "row 1, the first of the chain, is missing"),
    "every row deleted": (("DELETE FROM audit_log",), BreakKind.TRUNCATED, None, "no chained rows are left"),
    "every row and the head deleted": (("DELETE FROM audit_log", "DELETE FROM audit_chain_head"),
                                       BreakKind.HEAD_MISSING, None, "the log was emptied"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_at_open_and_named(tmp_path: Path, case: str) -> None:
    statements, kind, row, words = TAMPERING[case]
    db_path = tmp_path / "v.db"
    write_log(db_path)
    sql(db_path, *statements)
    report = reopen(db_path)
    assert not report.ok
    found = [b for b in report.breaks if b.kind is kind]
    assert found, report.breaks
    assert found[0].row_id == row and words in found[0].message, found[0]
    assert report.summary().startswith("audit log tampering detected: ")


def test_a_break_stays_reported_after_more_rows_are_written(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    write_log(db_path)
    sql(db_path, "DELETE FROM audit_log WHERE id > 26")
    assert not reopen(db_path).ok
    write_log(db_path, users=False, n=3)  # Vigil runs on: 3 more rows after the cut
    report = reopen(db_path)
    kinds = {b.kind for b in report.breaks}
    assert BreakKind.ROWS_MISSING in kinds, report.breaks  # the new rows link to row 30, which is gone


def test_a_deleted_key_file_is_reported_and_the_chain_restarts(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    write_log(db_path)
    audit_chain.key_path_for(db_path).unlink()
    report = reopen(db_path)
    assert [b.kind for b in report.breaks] == [BreakKind.KEY_MISSING]
    again = reopen(db_path)  # a new key and a restart row: intact from there, and the restart stays visible
    assert again.ok and again.checked_rows == 1 and again.unchained_rows == ROWS
    assert again.restarts == (f"the chain was restarted at row {ROWS + 1}: the audit key file was missing or "
                              "damaged: earlier rows cannot be verified",)


def test_a_head_deleted_while_running_restarts_the_chain_and_says_so(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    db = open_database(db_path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    try:
        writer.submit(Write([AuditAppended(1.0, "op", "login", None)])).result(10)
        sql(db_path, "DELETE FROM audit_chain_head")
        writer.submit(Write([AuditAppended(2.0, "op", "logout", None)])).result(10)  # the operator's write still lands
    finally:
        writer.stop()
        db.dispose()
    report = reopen(db_path)
    assert report.ok and report.restarts and "head was missing" in report.restarts[0]
    with sqlite3.connect(db_path) as con:
        assert [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY id")] == [
            "login", "audit chain restarted", "logout"]


OLD_AUDIT_LOG = ("CREATE TABLE audit_log (id INTEGER NOT NULL, ts FLOAT NOT NULL, user VARCHAR(64), "
                 "action VARCHAR(48) NOT NULL, detail TEXT, PRIMARY KEY (id))")


def test_an_older_database_is_migrated_in_place(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    sql(db_path, OLD_AUDIT_LOG, *[f"INSERT INTO audit_log (ts, user, action) VALUES ({i}, 'op', 'login')"
                                  for i in range(5)])
    report = reopen(db_path)
    assert report.ok and report.unchained_rows == 5
    assert report.notes == ("5 rows from before the chain (up to row 5) are not chained",)
    write_log(db_path, users=False, n=3)
    report = reopen(db_path)
    assert report.ok and report.checked_rows == 3 and report.unchained_rows == 5
    sql(db_path, "DELETE FROM audit_log WHERE id = 2")  # the earlier rows are counted: deleting one is seen
    report = reopen(db_path)
    assert [b.kind for b in report.breaks] == [BreakKind.EARLIER_ROWS_CHANGED]
    assert "5 unchained rows (up to row 5) came before the chain, 4 now" in report.breaks[0].message


def test_a_new_database_starts_with_no_extra_rows(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    with db.connect() as c:
        assert c.execute(select(schema.audit_log)).all() == []
    db.dispose()


def test_the_engine_publishes_what_it_found(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_log(Path(settings.storage.path))
    sql(Path(settings.storage.path), "UPDATE audit_log SET user = 'admin' WHERE id = 12")
    engine = Engine(settings, fault_station(faults=(), duration_s=5))
    seen: list[events.AuditChainChecked] = []
    got = threading.Event()

    def listen(ev: object) -> None:
        if isinstance(ev, events.AuditChainChecked):
            seen.append(ev)
            got.set()

    engine.subscribe(listen)
    try:
        engine.start()
        assert got.wait(10)
    finally:
        engine.stop()
    report = seen[0].report
    assert not report.ok and report.breaks[0].row_id == 12
    assert engine.snapshot().audit is report


def test_audit_ops_on_a_database_not_opened_by_vigil_fail_loudly(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    plain = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    schema.metadata.create_all(plain)
    writer = StoreWriter(plain, raw_retention_s=86400)
    writer.start()
    try:
        with pytest.raises(audit_chain.ChainNotAttached, match="open it with app.store.database.open_database"):
            writer.submit(Write([AuditAppended(1.0, "op", "login", None)])).result(10)
        writer.submit(Write([UserRemoved("x")])).result(10)  # alive
    finally:
        writer.stop()



def test_a_log_too_damaged_to_verify_is_reported_and_vigil_still_opens(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    write_log(db_path, n=6)
    sql(db_path, "ALTER TABLE audit_log RENAME TO old_log", "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, x)")
    report = reopen(db_path)
    assert [b.kind for b in report.breaks] == [BreakKind.UNREADABLE]
    assert "could not be verified (OperationalError)" in report.breaks[0].message
