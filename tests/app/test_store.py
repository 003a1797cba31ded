from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text

from app.audit_chain import AuditAppended
from app.labels import Label
from app.store import schema
from app.store.alarm_rows import LabelWritten
from app.store.database import integrity_ok, open_database
from app.store.sample_rows import SampleRow
from app.store.writer import StoreWriter, Write

ROOT = Path(__file__).resolve().parents[2]


def rows(asset: str, t0: float, n: int, step: float = 1.0) -> list[SampleRow]:
    return [SampleRow(asset, t0 + i * step, np.arange(8, dtype="<f8").tobytes(), 0.1, "running") for i in range(n)]


def test_wal_mode_and_schema(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    with db.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        tables = {r[0] for r in c.execute(text("select name from sqlite_master where type='table'"))}
    assert {"samples", "alarms", "alarm_events", "labels", "audit_log"} <= tables


def test_writer_stores_samples_and_committed_writes(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    w = StoreWriter(db, raw_retention_s=7 * 86400)
    w.start()
    w.put_samples(rows("P-101", 0, 500))
    done = w.submit(Write([AuditAppended(1.0, "ana", "login", {})]))
    done.result(timeout=10)
    w.stop()
    with db.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.samples)).scalar() == 500
        assert c.execute(select(schema.audit_log.c.user)).scalar() == "ana"
        blob = c.execute(select(schema.samples.c["values"]).limit(1)).scalar_one()
    np.testing.assert_array_equal(np.frombuffer(blob, "<f8"), np.arange(8))


def test_retention_prunes_raw_samples_only(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    w = StoreWriter(db, raw_retention_s=3600, batch_max=100)
    w.start()
    w.submit(Write([AuditAppended(0.0, None, "start")]))
    for k in range(10):  # 10 hours of data, one sample a minute
        w.put_samples(rows("P-101", k * 3600, 60, step=60))
    w.stop()
    with db.connect() as c:
        oldest = c.execute(select(func.min(schema.samples.c.ts))).scalar_one()
        newest = c.execute(select(func.max(schema.samples.c.ts))).scalar_one()
        audits = c.execute(select(func.count()).select_from(schema.audit_log)).scalar()
    assert newest - oldest <= 3600 + 600  # pruned each ~10 min of data time
    assert audits == 1
    assert w.rows_pruned > 0


def test_failed_write_reports_and_keeps_running(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    errors: list[str] = []
    w = StoreWriter(db, raw_retention_s=86400, on_error=lambda where, exc: errors.append(where))
    w.start()
    bad = w.submit(Write([LabelWritten(Label("nope", "unsure", None, None, "x", 0.0))]))
    with pytest.raises(Exception, match="FOREIGN KEY"):
        bad.result(timeout=10)
    ok = w.submit(Write([AuditAppended(0.0, "x", "still-alive")]))
    ok.result(timeout=10)
    w.stop()
    assert errors == ["store write"]


def test_sigkill_while_writing_leaves_a_sound_database(tmp_path: Path) -> None:
    """Kill a writer process at several points; the file must open and pass integrity_check every time, and each
    acknowledged (committed) operator write must be there."""
    path = tmp_path / "kill.db"
    script = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from app.store.database import open_database
        from app.audit_chain import AuditAppended
        from app.store.sample_rows import SampleRow
        from app.store.writer import StoreWriter, Write
        w = StoreWriter(open_database({str(path)!r}), raw_retention_s=600, batch_max=500)
        w.start()
        blob = np.zeros(8).tobytes()
        k = 0
        while True:
            w.put_samples([SampleRow("P-1", k * 500.0 + i, blob, 0.0, "running") for i in range(500)])
            w.submit(Write([AuditAppended(float(k), "op", "ack")])).result()
            print(k, flush=True)
            k += 1
    """)
    for kill_after in (1, 5, 12, 30):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        last = -1
        assert proc.stdout is not None  # stdout=PIPE
        for line in proc.stdout:  # wait for acknowledged writes, not for time
            last = int(line)
            if last >= kill_after:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        db = open_database(path)
        assert integrity_ok(db)
        with db.connect() as c:
            acked = c.execute(select(func.max(schema.audit_log.c.ts))).scalar()
        assert acked is not None and acked >= last
        db.dispose()
