"""The KPIs' covering index on alarm events (app/store/schema.py ix_alarm_events_alarm_event_ts): made at open on
an older database too, and used by the KPI reads (an alarm's activations in a range, the latest activation before
an acknowledgement) without a table lookup per event."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.store.database import open_database

INDEX = "ix_alarm_events_alarm_event_ts"


def test_an_older_database_gets_the_kpi_index_at_open_and_the_kpi_reads_use_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(path)
    with db.begin() as c:
        c.execute(text(f"DROP INDEX {INDEX}"))
        c.execute(text("DROP TABLE alembic_version"))  # a database from before Alembic
    db.dispose()
    db = open_database(path)
    with db.connect() as c:
        have = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        plan = " ".join(str(r[-1]) for r in c.execute(text(
            "EXPLAIN QUERY PLAN SELECT max(ts) FROM alarm_events WHERE alarm_id = 'a1' "
            "AND event IN ('raised', 'reactivated') AND ts <= 100")))
    db.dispose()
    assert INDEX in have
    assert f"COVERING INDEX {INDEX}" in plan
