"""The store writer alone when the store cannot commit: a really full tmpfs, another connection's lock, a stop
while writes still wait; and the bookkeeping that says when a store problem is over."""
from __future__ import annotations

import errno
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.audit_chain import AuditAppended
from app.labels import Label
from app.store import schema
from app.store.alarm_rows import LabelWritten
from app.store.database import open_database
from app.store.sample_rows import SampleRow
from app.store.status import CommitPending, StoreHealth, StoreState, StoreUnavailable, classify
from app.store.writer import Durability, StoreWriter, Write
from tests.support.filesystems import empty_wal, fill
from tests.support.waiting import wait_until

BLOB = np.zeros(8).tobytes()


def samples(t0: float, n: int) -> list[SampleRow]:
    return [SampleRow("P-1", t0 + i, BLOB, 0.1, "running") for i in range(n)]


def audit(k: int, action: str = "ack") -> Write:
    return Write([AuditAppended(float(k), "op", action, {"k": k})])


def audit_ks(db, action: str = "ack") -> list[int]:  # sqlalchemy Engine
    with db.connect() as c:
        return [int(r[0]) for r in c.execute(select(schema.audit_log.c.ts).where(schema.audit_log.c.action == action)
                                             .order_by(schema.audit_log.c.id))]


def test_kept_writes_wait_in_order_through_a_full_disk_and_samples_and_sheddable_writes_go(
        small_tmpfs: Path) -> None:
    db_path = small_tmpfs / "v.db"
    db = open_database(db_path)
    changes: list[StoreState] = []
    w = StoreWriter(db, raw_retention_s=86400, on_status=lambda s: changes.append(s.state))
    w.start()
    try:
        w.put_samples(samples(0, 100))
        w.submit(audit(0)).result(10)
        # operator writes overtake samples: wait for these too, or they are shed inside the problem's count
        wait_until(lambda: w.rows_written >= 100, 30, "the first samples to be written")
        empty_wal(db_path)
        ballast = fill(small_tmpfs)
        kept = [audit(k) for k in range(1, 21)]
        shed = Write([AuditAppended(99.0, "op", "telemetry", None)], durability=Durability.SHED)
        for k, write in enumerate(kept):
            w.submit(write)
            w.put_samples(samples(1000 + 10 * k, 10))
            if k == 10:
                w.submit(shed)
        wait_until(lambda: w.status().state is StoreState.FULL and all(x.deferred.is_set() for x in kept), 30,
                   "every kept write to be held for a retry")
        with pytest.raises(CommitPending, match="STORAGE FULL"):
            w.wait(kept[0])
        with pytest.raises((StoreUnavailable, OperationalError)):
            shed.done.result(10)  # dropped, not kept
        assert w.status().held == 20 and w.status().samples_shed > 0
        assert not any(x.done.done() for x in kept)
        ballast.unlink()
        for write in kept:
            write.done.result(30)  # committed now
        wait_until(lambda: w.status().ok, 30, "the store to recover")
    finally:
        w.stop()
    assert audit_ks(db) == list(range(21))  # each once, in the order they were submitted
    assert audit_ks(db, "telemetry") == []
    assert changes == [StoreState.FULL, StoreState.OK]
    s = w.status()
    assert s.recovered_ts is not None and s.samples_shed == s.rows_dropped == w.rows_dropped > 0
    db.dispose()


def test_a_refused_write_behind_a_lock_fails_once_and_the_writes_after_it_commit(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    db = open_database(db_path)
    errors: list[str] = []
    w = StoreWriter(db, raw_retention_s=86400, on_error=lambda where, exc: errors.append(where))
    w.start()
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        w.submit(audit(0)).result(10)
        other.execute("BEGIN IMMEDIATE")
        first, bad, last = audit(1), Write([LabelWritten(Label("nope", "unsure", None,
                                                                                      None, "x", 0.0))]), audit(2)
        for write in (first, bad, last):
            w.submit(write)
        wait_until(lambda: w.status().state is StoreState.LOCKED, 30, "the writer to see the lock")
        with pytest.raises(CommitPending, match="STORAGE LOCKED"):
            w.wait(last)
        other.execute("ROLLBACK")
        first.done.result(30)
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            bad.done.result(30)
        last.done.result(30)
    finally:
        other.close()
        w.stop()
    assert audit_ks(db) == [0, 1, 2]
    assert errors == ["store write"] and w.status().rejected == 1
    db.dispose()


def test_stopping_while_the_disk_is_full_says_how_many_writes_could_not_be_stored(
        small_tmpfs: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path = small_tmpfs / "v.db"
    db = open_database(db_path)
    w = StoreWriter(db, raw_retention_s=86400)
    w.start()
    w.submit(audit(0)).result(10)
    empty_wal(db_path)
    ballast = fill(small_tmpfs)
    kept = [audit(k) for k in range(1, 4)]
    for write in kept:
        w.submit(write)
    wait_until(lambda: w.status().held == 3, 30, "the writes to be held")
    w.stop(timeout=1.0)
    for write in kept:
        with pytest.raises(StoreUnavailable):
            write.done.result(0)
    assert any("3 alarm/operator write(s) could not be stored" in r.getMessage() for r in caplog.records)
    ballast.unlink()
    db.dispose()


class _Collecting(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self._records = records

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)


def test_a_store_problem_ends_after_commits_in_a_row_or_quiet_time_and_is_logged_once() -> None:
    now = [100.0]
    seen: list[StoreState] = []
    logger = logging.getLogger("app.store.status")
    records: list[logging.LogRecord] = []
    handler = _Collecting(records)
    logger.addHandler(handler)
    try:
        h = StoreHealth(recover_commits=3, recover_s=5.0, clock=lambda: now[0], monotonic=lambda: now[0],
                        on_change=lambda s: seen.append(s.state))
        disk_full = sqlite3.OperationalError("database or disk is full")
        disk_full.sqlite_errorcode = sqlite3.SQLITE_FULL
        full = OperationalError("INSERT", {}, disk_full)
        for _ in range(500):  # a long problem: 500 failed attempts
            h.failed(StoreState.FULL, full, held=2)
        assert h.read().failures == 500 and h.read().since == 100.0
        h.committed(held=0)
        h.check(0)
        assert h.failing  # one commit is not yet a recovery
        now[0] += 5.0
        h.check(0)
        assert not h.failing and h.read().recovered_ts == 105.0
        h.failed(StoreState.LOCKED, full, held=1)
        for _ in range(3):
            h.committed(held=0)
        assert not h.failing  # three commits in a row: over
        assert seen == [StoreState.FULL, StoreState.OK, StoreState.LOCKED, StoreState.OK]
        assert len(records) == 4  # per problem: the first failure and the recovery, not 500 lines
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(("code", "state"), [
    (sqlite3.SQLITE_FULL, StoreState.FULL), (sqlite3.SQLITE_BUSY, StoreState.LOCKED),
    (sqlite3.SQLITE_LOCKED, StoreState.LOCKED), (sqlite3.SQLITE_IOERR, StoreState.FAILING),
    (sqlite3.SQLITE_IOERR | (3 << 8), StoreState.FAILING),  # SQLITE_IOERR_WRITE
    (sqlite3.SQLITE_READONLY, StoreState.FAILING), (sqlite3.SQLITE_CONSTRAINT, None),
    (sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, None), (sqlite3.SQLITE_ERROR, None)])
def test_store_problems_are_told_apart_from_refusals(code: int, state: StoreState | None) -> None:
    orig = sqlite3.OperationalError("x")
    orig.sqlite_errorcode = code
    assert classify(OperationalError("stmt", {}, orig)) is state
    assert classify(OSError(errno.ENOSPC, "No space left on device")) is StoreState.FULL
    assert classify(OSError(errno.EIO, "I/O error")) is StoreState.FAILING
    assert classify(ValueError("a bug")) is None
