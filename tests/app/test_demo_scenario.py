"""The simulator's demo (issue 14 item 8): commissioning from a pre-run of simulated plant time, then faults on
different pumps; the first alarm and the cloud's verdict come within a bounded plant time; never with a field
source."""
from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acquisition.simulator import PumpStation
from acquisition.simulator.scenario import Scenario
from app import events
from app.config import ConfigError, Settings, load_settings
from app.engine import Engine
from app.sources import build_source, scenario
from tests.support.waiting import next_event

ROOT = Path(__file__).resolve().parents[2]


def demo_settings(tmp_path: Path, speed: float = 0.0, **simulator: object) -> Settings:
    return load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "cloud": {"standin_delay_s": 0.1},
        "source": {"kind": "simulator", "speed": speed, "simulator": simulator}})


def _stamp(line: str) -> float:
    match = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line)
    assert match, line
    return datetime.strptime(match.group(0), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def test_headless_demo_prints_the_first_alarm_and_a_confirmed_verdict_within_a_bounded_plant_time(
        tmp_path: Path) -> None:
    """`python main.py --headless --simulate`, nothing else asked: the demo. Driven at 60x; --duration bounds the
    plant time after the pre-run, so every line printed is inside it."""
    env = {**os.environ, "VIGIL_CLOUD__STANDIN_DELAY_S": "0.2", "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    proc = subprocess.run([sys.executable, "main.py", "--headless", "--simulate", "--db", str(tmp_path / "v.db"),
                           "--speed", "60", "--duration", "150s"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("demo ") for line in lines), proc.stdout
    live = next(line for line in lines if line.startswith("live "))
    assert "4 pump(s) commissioned" in live and "still learning" not in live
    ready = [line for line in lines if line.startswith("ready ")]
    assert len(ready) == 4 and lines.index(ready[-1]) < lines.index(live)  # commissioned in the pre-run
    first_alarm = next(line for line in lines if line.startswith("ALARM"))
    confirmed = next(line for line in lines if line.startswith("cloud ") and "cloud confirmed" in line)
    assert lines.index(live) < lines.index(first_alarm) < lines.index(confirmed)
    live_ts = _stamp(live)
    assert " P-101 " in first_alarm and 20 < _stamp(first_alarm) - live_ts <= 60  # cavitation from +20 s
    assert " P-101 " in confirmed and "cavitation - HIGH" in confirmed
    # the stand-in answers in 0.2 s of wall time, 12 s of plant time at 60x, plus a loaded machine's latency
    assert _stamp(confirmed) - _stamp(first_alarm) >= 0 and _stamp(confirmed) - live_ts <= 120
    # the other two faults follow within the bound, on their own pumps
    assert {line.split()[3] for line in lines if line.startswith("ALARM")} == {"P-101", "P-102", "P-103"}


@pytest.mark.parametrize(("n_pumps", "seed", "start_stopped", "period"), [
    (1, 0, False, 1.0), (4, 0, False, 1.0), (8, 7, False, 1.0), (4, 3, True, 1.0), (2, 11, False, 2.0)])
def test_the_pre_run_commissions_every_pump_before_the_first_live_sample(
        tmp_path: Path, n_pumps: int, seed: int, start_stopped: bool, period: float) -> None:
    """Checked on the detection thread when the pre-run's last batch is scored: every pipeline is commissioned,
    and no frame from the live part has been scored yet (the same detection code, fed the simulated past)."""
    settings = demo_settings(tmp_path, n_pumps=n_pumps, seed=seed, start_stopped=start_stopped,
                             sample_period_s=period)
    station = build_source(settings, duration_s=10 * period)
    assert isinstance(station, PumpStation) and station.prerun_s > 0
    engine = Engine(settings, station)
    seen: queue.Queue = queue.Queue()

    def at_prerun_end(ev: object) -> None:  # the detection thread, between the pre-run and the live batches
        if isinstance(ev, events.PrerunFinished):
            seen.put((ev, {a: p.commissioned for a, p in engine.pipelines.items()}, engine.snapshot().ts))

    engine.subscribe(at_prerun_end)
    engine.start()
    try:
        assert engine.wait_prerun(120)
        ev, commissioned, last_ts = seen.get(timeout=5)
    finally:
        engine.stop()
    assert ev.live_from_ts == station.live_from_ts
    assert commissioned == dict.fromkeys(station.assets, True) and ev.learning == ()
    assert set(ev.commissioned) == set(station.assets)
    assert last_ts is not None and last_ts < station.live_from_ts  # nothing live scored yet


def test_at_real_time_the_live_part_starts_now_and_the_pre_run_is_the_recent_past(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, speed=1.0, n_pumps=1)
    before = time.time()
    station = build_source(settings)
    assert isinstance(station, PumpStation)
    assert before - 1 < station.live_from_ts <= time.time()
    assert station.config.start_ts == pytest.approx(station.live_from_ts - station.prerun_s)
    engine = Engine(settings, station)
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    engine.start()
    try:
        done = next_event(q, lambda e: isinstance(e, events.PrerunFinished), 60, "the end of the pre-run")
        assert done.wall_s < 30  # 425 s of plant time, flat out, not paced
        assert abs(engine.clock() - time.time()) < 3.0  # and from there on the plant clock is the wall clock
    finally:
        engine.stop()


@pytest.mark.parametrize("kind", ["modbus", "mqtt", "csv"])
def test_the_demo_is_refused_with_any_other_source_and_named(tmp_path: Path, kind: str) -> None:
    cfg = tmp_path / "vigil.toml"
    cfg.write_text(f'[source]\nkind = "{kind}"\n[source.csv]\npath = "x.csv"\n'
                   '[source.simulator]\nscenario = "demo"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    text = str(err.value)
    assert "source.simulator.scenario = 'demo'" in text and repr(kind) in text and "'none'" in text
    assert "Value error" not in text and "{...}" not in text
    # unset or "none": accepted, and no scenario runs
    for extra in ("", 'scenario = "none"\n'):
        cfg.write_text(f'[source]\nkind = "{kind}"\n[source.csv]\npath = "x.csv"\n[source.simulator]\n{extra}')
        assert scenario(load_settings(cfg, environ={})) is Scenario.NONE


def test_main_refuses_the_demo_with_a_modbus_source(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_SOURCE__SIMULATOR__SCENARIO": "demo", "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    proc = subprocess.run([sys.executable, "main.py", "--headless", "--source", "modbus", "--db",
                           str(tmp_path / "v.db")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "source.simulator.scenario = 'demo' runs only on the built-in simulator" in proc.stderr
    assert "'modbus'" in proc.stderr and "Traceback" not in proc.stderr


def test_the_simulator_default_is_the_demo_unless_faults_are_injected_or_it_is_turned_off(tmp_path: Path) -> None:
    from acquisition.simulator import parse_injection

    fault = parse_injection("P-101:seal_leak@5m")
    assert scenario(demo_settings(tmp_path)) is Scenario.DEMO
    assert scenario(demo_settings(tmp_path), [fault]) is Scenario.NONE
    assert scenario(demo_settings(tmp_path, scenario="none")) is Scenario.NONE
    plain = build_source(demo_settings(tmp_path, scenario="none"))
    assert isinstance(plain, PumpStation) and plain.prerun_s == 0 and plain.faults == ()
    # asked for explicitly with --inject: both, the injected one timed from the pre-run's end like the demo's
    both = build_source(demo_settings(tmp_path, scenario="demo", n_pumps=2), [fault])
    assert isinstance(both, PumpStation)
    onsets = {(f.asset, f.kind.value): f.onset_s - both.prerun_s for f in both.faults}
    assert onsets == {("P-101", "seal_leak"): 300.0, ("P-101", "cavitation"): 20.0, ("P-102", "bearing_wear"): 60.0}


def test_the_demo_walks_through_raise_cloud_verdict_acknowledge_and_label(tmp_path: Path) -> None:
    """What a new user does in the demo, through the engine's operator commands: the cavitation alarm is raised,
    the cloud stand-in confirms it, a technician acknowledges and labels it; the trail is stored."""
    from sqlalchemy import select

    from app.alarm_model import AlarmEvent
    from app.store import alarm_rows, schema
    from tests.support.logins import login_demo

    settings = demo_settings(tmp_path, speed=120.0)
    engine = Engine(settings, build_source(settings, duration_s=600))
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    engine.start()
    try:
        raised = next_event(q, lambda e: isinstance(e, events.AlarmRaised), 60, "the demo's first alarm")
        assert raised.asset == "P-101"
        verdict = next_event(q, lambda e: isinstance(e, events.AlarmStateChanged) and e.alarm_id == raised.alarm_id
                             and e.event is AlarmEvent.CLOUD_CONFIRMED, 30, "the cloud's confirmation")
        assert "cavitation" in (verdict.note or "")
        tech = login_demo(engine.users, "technician")
        engine.acknowledge(raised.alarm_id, tech, note="heard it rattle")
        labelled = engine.label(raised.alarm_id, tech, "failure", "cavitation", "suction strainer blocked")
    finally:
        engine.stop()
    assert not labelled.unacknowledged and labelled.label is not None
    assert labelled.label.failure_mode == "cavitation"
    stored = {a.id: a for a in alarm_rows.history(engine.db)}[raised.alarm_id]
    assert not stored.unacknowledged and stored.cloud.failure_mode == "cavitation"
    with engine.db.connect() as c:
        modes = c.execute(select(schema.labels.c.failure_mode).where(schema.labels.c.alarm_id == raised.alarm_id))
        assert modes.scalars().all() == ["cavitation"]
