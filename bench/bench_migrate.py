"""``python -m bench.bench_migrate``: opening a 200 MB database from before Alembic, as a gateway upgraded from
that release does at its first start: integrity check, copy aside (SQLite backup API), upgrade to head in one
transaction (revision 0001 over an older file: the tables, columns and indexes it lacks; the sample index
``ix_samples_ts`` over every sample row is the big part).

The database: the committed pre-Alembic fixture (tests/fixtures/vigil-before-alembic.db: alarms, labels, audit,
outbox, logbook, users), made older still (no logbook, no handovers, no ``ix_samples_ts``), then filled with sample
rows (8 pumps, 1 Hz, 8 channels) to ``--mb`` MB. Goal (issue 14): <= 30 s. ``--keep DIR`` keeps the seeded file
(and reuses it: the migrated one is thrown away, a pristine copy is kept). Numbers are printed; nothing asserted.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from app.store.database import migration_of, open_database

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "vigil-before-alembic.db"
GOAL_S = 30.0
START = 1_796_083_200.0
BATCH = 20_000


def seed(path: Path, mb: float) -> tuple[int, float]:
    """Rows written and seconds."""
    t0 = time.perf_counter()
    shutil.copy(FIXTURE, path)
    shutil.copy(FIXTURE.with_name(FIXTURE.name + ".audit-key"), path.with_name(path.name + ".audit-key"))
    con = sqlite3.connect(path)
    con.executescript("DROP TABLE logbook; DROP TABLE handovers; DROP INDEX ix_samples_ts; "
                      "DROP INDEX ix_samples_asset_ts; PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;")
    rng = np.random.default_rng(1)
    rows, i = 0, 0
    target = int(mb * 1e6)
    while path.stat().st_size < target:
        values = rng.normal(size=(BATCH, 8)).astype("<f8")
        batch = [(f"P-{101 + (i + k) % 8}", START + (i + k) // 8, values[k].tobytes(), 0.1, "run")
                 for k in range(BATCH)]
        with con:
            con.executemany('INSERT INTO samples (asset, ts, "values", score, regime) VALUES (?, ?, ?, ?, ?)', batch)
        rows += BATCH
        i += BATCH
    con.execute("CREATE INDEX ix_samples_asset_ts ON samples (asset, ts)")  # the older release had this one
    con.commit()
    con.close()
    return rows, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_migrate")
    p.add_argument("--mb", type=float, default=200.0, help="database size to migrate (default 200 MB)")
    p.add_argument("--keep", type=Path, help="keep and reuse the seeded database in this folder")
    args = p.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="vigil-bench-migrate-"))
    folder.mkdir(parents=True, exist_ok=True)
    pristine = folder / f"pristine-{args.mb:g}.db"
    if not pristine.exists():
        rows, seconds = seed(pristine, args.mb)
        print(f"seeded {rows} sample rows, {pristine.stat().st_size / 1e6:.0f} MB in {seconds:.1f} s")
    work = folder / "vigil.db"
    for p_ in folder.glob("vigil.db*"):
        p_.unlink()
    shutil.copy(pristine, work)
    shutil.copy(pristine.with_name(pristine.name + ".audit-key"), folder / "vigil.db.audit-key")
    t0 = time.perf_counter()
    db = open_database(work)
    total = time.perf_counter() - t0
    result = migration_of(db)
    db.dispose()
    assert result is not None
    print(f"migrated {work.stat().st_size / 1e6:.0f} MB from schema {result.from_revision} to {result.to_revision}: "
          f"{total:.1f} s in all (integrity check + copy aside + upgrade; upgrade with its copy {result.seconds:.1f} s)"
          f"  goal <= {GOAL_S:.0f} s: {'met' if total <= GOAL_S else 'MISSED'}")
    if args.keep is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
