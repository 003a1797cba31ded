"""The alarm tables' mapping (app/store/alarm_rows.py) on real SQLite files: an alarm written and read back is the
same alarm, which diagnostic a diagnostic alarm is survives a restart whatever its message says, and an older
database gets that column at open, derived once from the old rule."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text

from acquisition.source import Frame, SourceStats
from app.alarm_model import Alarm, AlarmKind, CloudState, CloudStatus, Priority
from app.alarm_states import AlarmState as S
from app.config import load_settings
from app.engine import Engine
from app.labels import Label
from app.store import alarm_rows, schema
from app.store.alarm_rows import AlarmWritten, LabelWritten, ServiceStateWritten
from app.store.database import open_database
from app.store.writer import StoreWriter, Write


class NoFrames:
    """A source with one pump that sends nothing: the engine runs, only the test changes alarms."""

    assets = ("P-101",)

    def __init__(self) -> None:
        self.stats = SourceStats()

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        return iter(())


def engine_on(tmp_path: Path) -> Engine:
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "vigil.db")},
                                                     "logging": {"dir": str(tmp_path / "log")},
                                                     "users": {"seed_demo_users": False}})
    engine = Engine(settings, NoFrames())
    engine.start()
    return engine


@pytest.mark.parametrize(("key", "message"), [
    ("comm", "P-101: link lost (Modbus timeout)"),  # a comm loss whose text never says "communication"
    ("signal", "P-101: bad signal after a communication retry"),  # a signal fault whose text does
    ("comm", "P-101: communication lost (all channels)"),
])
def test_after_a_restart_the_same_diagnostic_reactivates_the_listed_alarm(tmp_path: Path, key: str,
                                                                          message: str) -> None:
    first = engine_on(tmp_path)
    try:
        first.alarms.on_diagnostic("P-101", key, True, 100.0, message)
        first.alarms.on_diagnostic("P-101", key, False, 160.0, message)
    finally:
        first.stop()
    again = engine_on(tmp_path)
    try:
        (restored,) = again.alarms.alarms()  # cleared, not acknowledged: still listed
        assert (restored.kind, restored.diagnostic_key, restored.state) == ("diagnostic", key, S.RTNUN)
        again.alarms.on_diagnostic("P-101", key, True, 900.0, message)
        (alarm,) = again.alarms.alarms()  # the same alarm again, not a second one
        assert alarm.id == restored.id and alarm.active and alarm.activations == 2
    finally:
        again.stop()


def test_an_alarm_written_and_read_back_is_the_same_alarm(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    alarm = Alarm(id="a" * 32, asset="P-101", kind=AlarmKind.ANOMALY, priority=Priority.HIGH, base=S.UNACK,
                  raised_ts=100.0, last_active_ts=130.0, peak_score=2.5, activations=3,
                  top_channels=(("vib_de", 0.6), ("flow", 0.3)), message="P-101: anomaly", active=True,
                  overlay=S.SHLVD, cleared_ts=None, shelved_until=900.0,
                  cloud=CloudStatus(CloudState.CONFIRMED, "cavitation", Priority.HIGH, 0.9, 120.0))
    label = Label(alarm.id, "failure", "cavitation", "seen at the pump", "tom", 200.0)
    diag = replace(alarm, id="b" * 32, kind=AlarmKind.DIAGNOSTIC, diagnostic_key="comm", overlay=None, base=S.UNACK,
                   cloud=CloudStatus(), top_channels=())
    try:
        writer.submit(Write([AlarmWritten(alarm, "raised", 100.0, 2.5, first=True), LabelWritten(label),
                             AlarmWritten(diag, "raised", 100.0, None, first=True),
                             ServiceStateWritten("P-102", True, "sue", 150.0)])).result(10)
    finally:
        writer.stop()
    restored, revisions = alarm_rows.restored(db)
    # A new run does not know the conditions: cleared (an unacknowledged one still waits for its acknowledgement),
    # and a question to the cloud is answered or not: the sent time is not kept.
    assert sorted(restored, key=lambda a: a.id) == [
        replace(alarm, active=False, base=S.RTNUN, label=label, cloud=replace(alarm.cloud, sent_at=None)),
        replace(diag, active=False, base=S.RTNUN)]
    assert revisions == {alarm.id: 1}
    assert {a.id for a in alarm_rows.history(db)} == {alarm.id, diag.id}
    assert alarm_rows.out_of_service_assets(db) == ["P-102"]
    with db.connect() as c:
        events = c.execute(select(schema.alarm_events.c.alarm_id, schema.alarm_events.c.state)).all()
    assert sorted(events) == [(alarm.id, "SHLVD"), (diag.id, "UNACK")]


def test_an_older_database_gets_the_diagnostic_column_derived_once_from_the_message(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    open_database(path).dispose()
    con = sqlite3.connect(path)  # the alarms table as it was before the column
    con.execute("ALTER TABLE alarms DROP COLUMN diagnostic")
    con.execute("DROP TABLE alembic_version")  # and from before Alembic, as such databases are
    for alarm_id, kind, message in (("c", "diagnostic", "P-1: communication lost (all channels)"),
                                    ("s", "diagnostic", "P-1: bad signal on flow"),
                                    ("a", "anomaly", "P-1: anomaly (driven by flow 80%)")):
        con.execute("INSERT INTO alarms (id, asset, kind, priority, state, raised_ts, last_active_ts, peak_score, "
                    "activations, top_channels, message, cloud_state) VALUES (?, 'P-1', ?, 'medium', 'RTNUN', 1.0, "
                    "1.0, 0.0, 1, '[]', ?, 'none')", (alarm_id, kind, message))
    con.commit()
    con.close()

    def diagnostics() -> dict[str, str | None]:
        db = open_database(path)
        try:
            with db.connect() as c:
                return dict(c.execute(text("SELECT id, diagnostic FROM alarms")).all())
        finally:
            db.dispose()

    assert diagnostics() == {"c": "comm", "s": "signal", "a": None}
    con = sqlite3.connect(path)  # the column is the truth from now on: a message never decides again
    con.execute("UPDATE alarms SET message = 'P-1: communication lost' WHERE id = 's'")
    con.commit()
    con.close()
    assert diagnostics() == {"c": "comm", "s": "signal", "a": None}
