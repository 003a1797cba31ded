"""Whatever the store does meanwhile (another program locks it, the disk fills up and is freed, in any order,
between any writes), no kept write (alarm, operator action) is lost, duplicated or reordered; a refused write
fails once; a sheddable write is either stored or reported dropped; every sample is either stored or counted as
shed; and the store says it is OK again at the end. Real SQLite on a real 8 MB tmpfs."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event as stat, given, settings, strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.audit_chain import AuditAppended
from app.labels import Label
from app.store import schema
from app.store.alarm_rows import LabelWritten
from app.store.database import open_database
from app.store.sample_rows import SampleRow
from app.store.status import StoreUnavailable
from app.store.writer import Durability, StoreWriter, Write
from tests.support.filesystems import fill, mounted_tmpfs
from tests.support.waiting import wait_until

BLOB = np.zeros(8).tobytes()
ACTION = st.one_of(
    st.tuples(st.just("keep"), st.integers(1, 4)),
    st.tuples(st.just("samples"), st.integers(1, 400)),
    st.sampled_from([("shed", 1), ("refused", 1), ("unlock", 0), ("free", 0)]),
    st.sampled_from([("lock", 0), ("fill", 0)]))  # a branch of their own: store problems in most examples
STEPS = st.lists(st.tuples(ACTION, st.booleans()), min_size=3, max_size=30)  # (action, then let the writer settle)


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path_factory.mktemp("store-faults") / "disk") as mnt:
        yield mnt


def _short_busy_timeout(dbapi_conn, _record) -> None:  # a lock fails in 50 ms, not 5 s
    dbapi_conn.execute("PRAGMA busy_timeout=50")


@settings(max_examples=min(settings().max_examples, 400))  # ~0.15 s each: stays well under the timeouts
@given(steps=STEPS)
def test_no_kept_write_is_lost_duplicated_or_reordered_whatever_the_store_does(disk: Path, steps: list) -> None:
    db_path = disk / "v.db"
    for suffix in ("", "-wal", "-shm"):  # a fresh database per example (an earlier one may have failed)
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db = open_database(db_path)
    event.listen(db, "connect", _short_busy_timeout)
    db.dispose()  # new connections get the short timeout too
    problems: list[str] = []
    w = StoreWriter(db, raw_retention_s=86400, on_status=lambda s: problems.append(s.state.value))
    other = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    ballast = disk / "ballast"
    kept: list[Write] = []
    shed: dict[int, Write] = {}
    refused: list[Write] = []
    n_samples = 0
    w.start()
    try:
        for (kind, n), settle in steps:
            if kind == "keep":
                for _ in range(n):
                    kept.append(Write([AuditAppended(float(len(kept)), "op", "keep", None)]))
                    w.submit(kept[-1])
            elif kind == "samples":
                w.put_samples([SampleRow("P-1", float(n_samples + i), BLOB, 0.0, "running") for i in range(n)])
                n_samples += n
            elif kind == "shed":
                k = len(shed)
                shed[k] = Write([AuditAppended(float(k), None, "shed", None)], durability=Durability.SHED)
                w.submit(shed[k])
            elif kind == "refused":
                refused.append(Write([LabelWritten(Label("no-such-alarm", "unsure", None, None, "x", 0.0))]))
                w.submit(refused[-1])
            elif kind == "lock" and not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")
            elif kind == "unlock" and other.in_transaction:
                other.execute("ROLLBACK")
            elif kind == "fill" and not ballast.exists():
                if not other.in_transaction:  # best effort: the next commit must grow a file
                    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                fill(disk)
            elif kind == "free":
                ballast.unlink(missing_ok=True)
            if settle:
                wait_until(lambda: w.backlog() == 0 or w.status().held > 0, 30, "the writer to take everything")
        if other.in_transaction:
            other.execute("ROLLBACK")
        ballast.unlink(missing_ok=True)
        for write in kept:
            write.done.result(30)
        probes = [Write([AuditAppended(0.0, None, "probe", None)]) for _ in range(3)]
        for p in probes:
            w.submit(p).result(30)
        wait_until(lambda: w.status().ok, 30, "the store to say it is OK again")
    finally:
        other.close()
        ballast.unlink(missing_ok=True)
        w.stop()
    for write in refused:
        with pytest.raises(IntegrityError):
            write.done.result(0)
    with db.connect() as c:
        keep_ts = [r[0] for r in c.execute(select(schema.audit_log.c.ts).where(schema.audit_log.c.action == "keep")
                                           .order_by(schema.audit_log.c.id))]
        shed_ts = {int(r[0]) for r in c.execute(select(schema.audit_log.c.ts)
                                                .where(schema.audit_log.c.action == "shed"))}
        stored_samples = c.execute(select(func.count()).select_from(schema.samples)).scalar_one()
    assert keep_ts == [float(k) for k in range(len(kept))]
    for k, write in shed.items():
        exc = write.done.exception(0)
        assert (exc is None) == (k in shed_ts)
        assert exc is None or isinstance(exc, (StoreUnavailable, OperationalError))
    assert stored_samples == w.rows_written and w.rows_written + w.rows_dropped == n_samples
    assert w.status().rows_dropped == w.rows_dropped
    stat(f"store states seen: {' -> '.join(problems) or 'none'}")
    db.dispose()
