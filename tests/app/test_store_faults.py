"""The engine on a store that cannot commit, on real parts: an 8 MB tmpfs filled to the brim while the engine
runs (the simulator, flat out), and a database held by another program's write transaction for several seconds.

Alarms raised meanwhile and operator actions must all reach the disk, in order, once the store can take them;
samples are what is shed; the operator is told what is wrong (and that it is the store, not the data source);
health comes back; and the repeated failure is logged a bounded number of times.
"""
from __future__ import annotations

import logging
import queue
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from app import events
from app.alarm_model import Alarm
from app.alarm_states import AlarmState
from app.config import load_settings
from app.engine import Engine
from app.health import Part, PartState
from app.store import schema
from app.store.database import integrity_ok
from app.store.status import CommitPending, StoreState
from tests.support.filesystems import empty_wal, fill
from tests.support.gated_source import GatedSource
from tests.support.logins import login_demo
from tests.support.waiting import next_event, wait_until

FAULTS = [FaultSpec(f"P-10{i + 1}", kind, 1000) for i, kind in
          enumerate((FaultKind.OUTLET_VALVE_CLOSURE, FaultKind.CAVITATION, FaultKind.INLET_VALVE_CLOSURE,
                     FaultKind.SEAL_LEAK))]


def engine_on(db_path: Path, log_dir: Path) -> tuple[Engine, GatedSource, queue.Queue]:
    """Four pumps, a fault on each from plant second 1000; the source holds at second 900 until the test says."""
    station = PumpStation(StationConfig(n_pumps=4, seed=3, schedule=False), faults=FAULTS, duration_s=1400)
    gated = GatedSource(station, station.config.start_ts + 900)
    settings = load_settings(environ={}, overrides={"storage": {"path": str(db_path)},
                                                     "logging": {"dir": str(log_dir)}})
    engine = Engine(settings, gated)
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    return engine, gated, q


def settle_at_the_gate(engine: Engine, gated: GatedSource) -> None:
    """Wait until the source holds and every sample before it is on disk (the writer is idle)."""
    assert gated.reached.wait(60), "the source never reached its gate"
    wait_until(lambda: engine.writer.rows_written == gated.yielded and engine.writer.backlog() == 0, 60,
               "the samples before the gate to be written")


def raised_alarms(q: queue.Queue, n: int) -> list[events.AlarmRaised]:
    return [next_event(q, lambda e: isinstance(e, events.AlarmRaised) and not e.reactivated, 60,
                       f"alarm {k + 1} of {n}") for k in range(n)]


def stored(engine: Engine) -> tuple[set[str], list[tuple[str, str | None]], int]:
    """(alarm ids with a row, (alarm id, user) of every stored acknowledgement, sample rows)."""
    with engine.db.connect() as c:
        ids = {r[0] for r in c.execute(select(schema.alarms.c.id))}
        acks = [(r[0], r[1]) for r in c.execute(select(schema.alarm_events.c.alarm_id, schema.alarm_events.c.user)
                                                .where(schema.alarm_events.c.event == "acknowledged"))]
        n = c.execute(select(func.count()).select_from(schema.samples)).scalar_one()
        assert c.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    return ids, acks, n


def test_alarms_and_acknowledgements_on_a_full_disk_are_kept_and_stored_once_space_is_freed(
        small_tmpfs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path = small_tmpfs / "vigil.db"
    engine, gated, q = engine_on(db_path, tmp_path / "log")
    engine.start()
    try:
        operator = login_demo(engine.users, "operator")  # logged in before the disk fills
        settle_at_the_gate(engine, gated)
        empty_wal(db_path)
        ballast = fill(small_tmpfs)  # not one block left
        caplog.clear()
        gated.go.set()  # on with the story: the pumps develop their faults while nothing can be stored

        raised = raised_alarms(q, len(FAULTS))
        assert engine.wait(120), "the source did not finish"
        snap = engine.snapshot()
        assert snap.store.state is StoreState.FULL
        assert snap.store.detail.startswith("STORAGE FULL: samples not being recorded, alarms kept and retried")
        assert snap.health[Part.STORE].state is PartState.FAULT
        assert snap.source.ok and snap.health[Part.SOURCE].state is PartState.OK  # not the data source's fault
        assert snap.store.held >= len(FAULTS) and snap.store.samples_shed > 0
        assert stored(engine)[0].isdisjoint(a.alarm_id for a in raised)  # truly full: none of them on disk yet

        # An operator acknowledges two of them while the disk is still full: taken, kept, retried, and said so.
        for a in raised[:2]:
            with pytest.raises(CommitPending, match="STORAGE FULL") as pending:
                engine.acknowledge(a.alarm_id, operator, note="seen while the disk was full")
            assert isinstance(pending.value.result, Alarm) and pending.value.result.base is AlarmState.ACKED
            assert engine.alarms.get(a.alarm_id).base is AlarmState.ACKED
        wait_until(lambda: engine.writer.status().failures >= 8, 60, "the writer to keep retrying")

        ballast.unlink()  # space is freed
        wait_until(lambda: engine.snapshot().store.ok, 60, "the store to recover")
        snap = engine.snapshot()
        assert snap.store.held == 0 and snap.health[Part.STORE].state is PartState.RECOVERED
        assert "recovered" in snap.health[Part.STORE].detail
        assert snap.worst() is None  # nothing is failing now
        for a in raised[2:]:  # and acknowledging after the space came back commits at once
            assert engine.acknowledge(a.alarm_id, operator).base is AlarmState.ACKED
        failures = engine.writer.status().failures
    finally:
        engine.stop()

    ids, acks, n_samples = stored(engine)
    assert {a.alarm_id for a in raised} <= ids  # every alarm has its row
    assert sorted(acks) == sorted((a.alarm_id, "operator") for a in raised)  # every acknowledgement, once
    assert n_samples == engine.writer.rows_written  # samples were shed, not half-written
    assert integrity_ok(engine.db)
    engine.db.dispose()
    # The repeated failure: one line when the disk filled, one when it recovered - not one per attempt.
    lines = [r for r in caplog.records if r.name.startswith("app.") and r.levelno >= logging.WARNING]
    assert failures >= 8 and len(lines) <= 3, [r.getMessage() for r in lines]


def test_a_database_held_by_another_program_loses_no_alarm_or_acknowledgement(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path = tmp_path / "vigil.db"
    engine, gated, q = engine_on(db_path, tmp_path / "log")
    engine.start()
    try:
        operator = login_demo(engine.users, "operator")
        settle_at_the_gate(engine, gated)
        other = sqlite3.connect(db_path, isolation_level=None)  # another program with a write transaction
        other.execute("BEGIN IMMEDIATE")
        caplog.clear()
        gated.go.set()
        raised = raised_alarms(q, len(FAULTS))
        with pytest.raises(CommitPending, match="STORAGE LOCKED") as pending:  # past the busy timeout (5 s)
            engine.acknowledge(raised[0].alarm_id, operator, note="while locked")
        assert isinstance(pending.value.result, Alarm) and pending.value.result.base is AlarmState.ACKED
        snap = engine.snapshot()
        assert snap.store.state is StoreState.LOCKED and snap.health[Part.STORE].state is PartState.FAULT
        assert snap.source.ok
        other.execute("ROLLBACK")  # the other program lets go
        other.close()

        wait_until(lambda: engine.snapshot().store.ok, 60, "the store to recover")
        assert engine.snapshot().health[Part.STORE].state is PartState.RECOVERED
        assert engine.acknowledge(raised[1].alarm_id, operator).base is AlarmState.ACKED
        assert engine.wait(120)
    finally:
        engine.stop()
    ids, acks, _ = stored(engine)
    assert {a.alarm_id for a in raised} <= ids
    assert sorted(acks) == sorted((a.alarm_id, "operator") for a in raised[:2])
    engine.db.dispose()
    lines = [r for r in caplog.records if r.name.startswith("app.") and r.levelno >= logging.WARNING]
    assert len(lines) <= 3, [r.getMessage() for r in lines]
