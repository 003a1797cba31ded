"""The engine end to end on real parts: simulator -> detection -> alarms -> a real SQLite file."""
from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from acquisition.channels import N_CHANNELS
from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from acquisition.source import Frame
from app import events
from app.config import Settings, load_settings
from app.engine import Engine
from app.store import schema
from tests.fakes import ExplodingSource
from tests.support.logins import login_demo


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "vigil.db")},
                                                 "logging": {"dir": str(tmp_path / "log")}})


def collect(engine: Engine) -> queue.Queue:
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    return q


def wait_for(q: queue.Queue, kind: type, timeout: float = 60.0):
    while True:
        ev = q.get(timeout=timeout)
        if isinstance(ev, kind):
            return ev


def test_fault_raises_stored_alarm_and_acknowledge_is_durable(tmp_path: Path) -> None:
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False),
                          faults=[FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 900)], duration_s=1800)
    engine = Engine(settings_for(tmp_path), station)
    q = collect(engine)
    engine.start()
    try:
        raised = wait_for(q, events.AlarmRaised)
        assert raised.asset == "P-101"
        assert raised.ts - station.config.start_ts >= 900
        assert {c for c, _ in raised.top_channels} & {"flow", "pressure", "current"}
        tech = login_demo(engine.users, "technician")
        engine.acknowledge(raised.alarm_id, tech, note="valve checked")
        assert engine.wait(60)
    finally:
        engine.stop()
    with engine.db.connect() as c:
        alarm = c.execute(select(schema.alarms).where(schema.alarms.c.id == raised.alarm_id)).one()
        evs = c.execute(select(schema.alarm_events.c.event, schema.alarm_events.c.user)
                        .where(schema.alarm_events.c.alarm_id == raised.alarm_id)).all()
        audit = c.execute(select(schema.audit_log.c.action, schema.audit_log.c.user)).all()
        n_samples = c.execute(select(schema.samples.c.id)).all()
    assert alarm.state in ("ACKED", "NORM")
    assert ("raised", None) in evs and ("acknowledged", "technician") in evs
    assert ("acknowledge", "technician") in audit
    assert len(n_samples) == 2 * 1800


def test_worker_exception_becomes_an_event_not_a_silent_death(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path), ExplodingSource())
    q = collect(engine)
    engine.start()
    try:
        failed = wait_for(q, events.WorkerFailed, timeout=10)
        assert engine.wait(10)
    finally:
        engine.stop()
    assert failed.worker == "source" and "device went away" in failed.error and failed.fatal


def test_unknown_alarm_acknowledge_is_refused(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path), PumpStation(StationConfig(n_pumps=1), duration_s=10))
    engine.start()
    try:
        with pytest.raises(KeyError, match="no alarm"):
            engine.acknowledge("nope", login_demo(engine.users, "operator"))
    finally:
        engine.stop()


class NaNBomb(PumpStation):
    """A station whose P-102 frames sometimes carry values that make scoring blow up (words, not numbers)."""

    GARBAGE = np.full(N_CHANNELS, "garbage")

    def batches(self, stop: threading.Event) -> Generator[list[Frame], None, None]:
        for batch in super().batches(stop):
            yield [Frame(f.asset, f.ts, self.GARBAGE if f.asset == "P-102" and int(f.ts) % 7 == 0 else f.values)
                   for f in batch]


def test_a_bad_frame_is_reported_and_skipped_and_other_assets_go_on(tmp_path: Path) -> None:
    station = NaNBomb(StationConfig(n_pumps=2, seed=1, schedule=False), duration_s=600)
    engine = Engine(settings_for(tmp_path), station)
    q = collect(engine)
    engine.start()
    try:
        failed = wait_for(q, events.WorkerFailed, timeout=30)
        assert engine.wait(60)
    finally:
        engine.stop()
    assert failed.fatal is False and "P-102" in failed.error
    assert engine.frame_errors["P-102"] == sum(1 for k in range(600) if (station.config.start_ts + k) % 7 == 0)
    assert engine.pipelines["P-101"].commissioned


def test_alarms_survive_a_restart_and_stay_in_the_list(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False),
                          faults=[FaultSpec("P-102", FaultKind.CAVITATION, 900)], duration_s=1500)
    first = Engine(settings, station)
    q = collect(first)
    first.start()
    try:
        raised = wait_for(q, events.AlarmRaised)
        assert first.wait(60)
    finally:
        first.stop()
    second = Engine(settings, PumpStation(StationConfig(n_pumps=2, seed=3), duration_s=10))
    restored = {a.id: a for a in second.alarms.alarms()}
    second.stop()
    assert raised.alarm_id in restored
    again = restored[raised.alarm_id]
    assert again.state.value == "RTNUN" and not again.active  # unacknowledged: still listed for the operator


KILL_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from acquisition.simulator import FaultSpec, PumpStation, StationConfig
from app import events
from app.config import load_settings
from app.engine import Engine
from tests.support.logins import login_demo
import queue
settings = load_settings(environ={{}}, overrides={{"storage": {{"path": {db!r}}}, "logging": {{"dir": {log!r}}}}})
engine = Engine(settings, PumpStation(StationConfig(n_pumps=1, seed=3, schedule=False),
                faults=[FaultSpec("P-101", "outlet_valve_closure", 900)], speed=0))
q = queue.Queue()
engine.subscribe(q.put)
engine.start()
while True:
    ev = q.get(timeout=60)
    if isinstance(ev, events.AlarmRaised):
        break
tech = login_demo(engine.users, "technician")
engine.acknowledge(ev.alarm_id, tech, note="seen at the pump")
engine.label(ev.alarm_id, tech, "failure", "outlet_valve_closure", "valve found half shut")
print(ev.alarm_id, flush=True)
sys.stdin.read()  # keep running (the engine is still writing samples) until killed
"""


def test_operator_actions_survive_sigkill_right_after_them(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    db = tmp_path / "kill.db"
    script = KILL_SCRIPT.format(root=str(root), db=str(db), log=str(tmp_path / "log"))
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None  # stdout=PIPE
    alarm_id = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)  # the moment the commands have returned
    proc.wait(timeout=10)
    assert alarm_id
    from app.store.database import integrity_ok, open_database

    engine_db = open_database(db)
    assert integrity_ok(engine_db)
    with engine_db.connect() as c:
        evs = [r.event for r in c.execute(
            select(schema.alarm_events).where(schema.alarm_events.c.alarm_id == alarm_id))]
        label = c.execute(select(schema.labels).where(schema.labels.c.alarm_id == alarm_id)).one()
    assert "acknowledged" in evs
    assert (label.verdict, label.failure_mode, label.user) == ("failure", "outlet_valve_closure", "technician")


def test_snapshot_carries_latest_values_scores_and_health(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path), PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False),
                                                        duration_s=900))
    engine.start()
    try:
        assert engine.wait(60)
        snap = engine.snapshot()
    finally:
        engine.stop()
    assert set(snap.assets) == {"P-101", "P-102"}
    for status in snap.assets.values():
        assert status.regime == "running" and status.commissioned
        assert np.isfinite(status.values).all() and status.score is not None
        assert status.health in ("ok", "warning")
    latest = engine.live.latest("P-102")
    assert latest is not None and snap.ts == latest[0]
