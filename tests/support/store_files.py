"""A real store file with bulk in it, for the tests that damage, check or hash database files."""
from __future__ import annotations

import hashlib
from pathlib import Path

from app.store.database import open_database


def real_db(path: Path, rows: int = 20000, first_ts: float = 1.79e9) -> Path:
    """A real store with ``rows`` sample rows of P-101 (a few MB: the bulk of a gateway's file), checkpointed into
    the file so that damaging its pages damages the data."""
    db = open_database(path)
    with db.begin() as c:
        c.exec_driver_sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
                          "INSERT INTO samples (asset, ts, \"values\", regime) SELECT 'P-101', :t0 + i, "
                          "randomblob(64), 'run' FROM n", {"k": rows, "t0": first_ts})
    with db.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
