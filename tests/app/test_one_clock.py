"""One clock: the app's simulator starts at the wall time, and everything the engine stamps (frames, operator
actions, audit rows, shelving) reads on the source's plant clock, also when the plant runs faster than real time.

Before issue 12 the simulator started on 5 Jan 2026 whatever the date, and the engine stamped operator actions
and audit rows with the wall clock: an alarm's trail mixed "05 Jan" sample times with "03 Dec" actions."""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from acquisition.simulator import DEFAULT_START_TS, FaultKind, FaultSpec, PumpStation, StationConfig
from app import events
from app.config import Settings, load_settings
from app.engine import Engine
from app.sources import build_source, plant_clock
from app.store import journal, schema
from tests.support.logins import login_demo
from tests.support.waiting import next_event, wait_until

FAULT = FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 900)


def settings_for(tmp_path: Path, speed: float) -> Settings:
    return load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "source": {"kind": "simulator", "speed": speed,
                   "simulator": {"n_pumps": 1, "seed": 3, "regime_changes": False, "sample_period_s": 0.5,
                                 "scenario": "none"}}})


@pytest.mark.parametrize("period", [0.5, 1.0, 7.0])
def test_the_apps_simulator_starts_now_on_its_grid_unless_asked_for_a_fixed_start(tmp_path: Path,
                                                                                  period: float) -> None:
    settings = settings_for(tmp_path, 1.0)
    settings.source.simulator.sample_period_s = period
    before = time.time()
    station = build_source(settings)
    assert isinstance(station, PumpStation)
    start = station.config.start_ts
    assert before - period < start <= time.time()
    assert start / period == pytest.approx(round(start / period), abs=1e-6)  # on the sample grid
    fixed = build_source(settings, start_ts=DEFAULT_START_TS)
    assert isinstance(fixed, PumpStation) and fixed.config.start_ts == DEFAULT_START_TS


def test_at_real_time_the_samples_and_the_engine_clock_agree_with_the_wall_clock(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path, 1.0), build_source(settings_for(tmp_path, 1.0)))
    engine.start()
    try:
        wait_until(lambda: engine.frames_processed >= 4, 30, "a few real-time samples")
        snap = engine.snapshot()
        assert snap.ts is not None and abs(snap.ts - time.time()) < 3.0
        assert abs(engine.clock() - time.time()) < 3.0
        session = engine.users.login("technician", "2222")  # an audit row, on the same clock
        engine.users.logout(session)
    finally:
        engine.stop()
    with engine.db.connect() as c:
        stamps = c.execute(select(schema.audit_log.c.ts).where(schema.audit_log.c.action == "login")).scalars().all()
    assert stamps and all(abs(ts - time.time()) < 30 for ts in stamps)


def test_faster_than_real_time_every_stamp_of_a_trail_is_on_the_plant_clock(tmp_path: Path) -> None:
    """At 300 plant seconds per wall second: the acknowledgement is stamped after the raise, inside the plant
    time the call took (not the wall time), and its audit row and the trail's order agree."""
    settings = settings_for(tmp_path, 300.0)
    engine = Engine(settings, build_source(settings, [FAULT]))
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    engine.start()
    try:
        raised = next_event(q, lambda e: isinstance(e, events.AlarmRaised), 60, "the valve closure's alarm")
        tech = login_demo(engine.users, "technician")
        t0 = engine.clock()
        engine.acknowledge(raised.alarm_id, tech, note="valve checked")
        t1 = engine.clock()
    finally:
        engine.stop()
    assert t1 - t0 < 300 * 30  # sanity: the call took well under 30 s of wall time
    trail = journal.alarm_trail(engine.db, raised.alarm_id)
    acks = [e for e in trail if e.event == "acknowledged"]
    assert len(acks) == 1 and t0 <= acks[0].ts <= t1
    assert raised.ts < acks[0].ts
    assert [e.ts for e in trail] == sorted(e.ts for e in trail)  # a trail that reads in order
    with engine.db.connect() as c:
        audit_ts = c.execute(select(schema.audit_log.c.ts)
                             .where(schema.audit_log.c.action == "acknowledge")).scalar_one()
    assert t0 <= audit_ts <= t1


def test_a_paced_simulators_clock_runs_at_its_speed_and_never_back(tmp_path: Path) -> None:
    station = PumpStation(StationConfig(n_pumps=1, seed=1, schedule=False), speed=600.0, duration_s=3600)
    clock = plant_clock(station)
    assert clock() == DEFAULT_START_TS  # not running: the time of the next tick
    stop = threading.Event()
    seen: list[float] = []
    wall0 = time.monotonic()
    run = station.batches(stop)
    for batch in run:
        now = clock()
        assert all(f.ts <= now for f in batch)  # every frame yielded is at or before the plant's now
        seen.append(now)
        if now - DEFAULT_START_TS > 120:
            break
    elapsed = time.monotonic() - wall0
    assert seen == sorted(seen)
    assert seen[-1] - DEFAULT_START_TS == pytest.approx(600 * elapsed, rel=0.5)  # 600 plant s per wall s
    last = clock()
    run.close()  # stopped: it stays where it was (the next tick's time may be earlier), never goes back
    assert clock() >= last
