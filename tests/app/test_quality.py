"""Signal quality: outages and bad channels become diagnostic alarms, never anomaly alarms; quality is stored."""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select

from acquisition.channels import CHANNELS, INDEX, N_CHANNELS
from acquisition.quality import Quality, device_lost, filled, usable
from acquisition.simulator import PumpStation, StationConfig
from acquisition.source import Frame
from app import events
from app.diagnostics import QualityWatch
from app.engine import Engine
from app.store import schema
from tests.app.test_engine import collect, settings_for


def test_usable_and_device_lost() -> None:
    v = np.arange(N_CHANNELS, dtype=float)
    q = np.zeros(N_CHANNELS, np.uint8)
    q[2] = Quality.BAD
    assert np.isnan(usable(v, q)[2]) and usable(v, q)[3] == 3.0
    assert usable(v, None) is v
    assert not device_lost(None) and not device_lost(q)
    assert device_lost(filled(Quality.COMM_FAIL))
    part = filled(Quality.NOT_CONFIGURED)
    part[:3] = Quality.STALE
    assert device_lost(part)
    part[0] = Quality.GOOD
    assert not device_lost(part)
    assert not device_lost(filled(Quality.NOT_CONFIGURED))


def test_quality_watch_delays_and_clears() -> None:
    got: list[tuple] = []
    w = QualityWatch(lambda *a: got.append(a), comm_after_s=5, bad_after_s=10)
    good = np.zeros(N_CHANNELS, np.uint8)
    w.update("P-1", 0, good)
    for t in range(1, 5):
        w.update("P-1", t, filled(Quality.COMM_FAIL))
    assert got == []  # 3 s of silence is not yet an alarm
    w.update("P-1", 6, filled(Quality.COMM_FAIL))
    assert got[-1][:3] == ("P-1", "comm", True) and "communication lost" in got[-1][4]
    w.update("P-1", 7, good)
    assert got[-1][:3] == ("P-1", "comm", False)
    bad = good.copy()
    bad[INDEX["flow"]] = Quality.BAD
    for t in range(8, 18):
        w.update("P-1", t, bad)
    assert got[-1][:3] == ("P-1", "signal", False) or got[-1][1] == "comm"  # not yet: 9 s of bad flow
    w.update("P-1", 18, bad)
    assert got[-1][:3] == ("P-1", "signal", True) and "flow bad" in got[-1][4]
    w.update("P-1", 19, good)
    assert got[-1][:3] == ("P-1", "signal", False)
    n = len(got)
    w.update("SIM", 0, None)  # sources without quality are not watched
    assert len(got) == n


def test_a_channel_with_no_value_is_watched_like_a_stale_one() -> None:
    """NO_VALUE (configured, nothing ever received): every channel so is a communication loss, one beside good
    ones a signal problem - what STALE gave before the sources told "no value" apart (acquisition/held_values.py)."""
    got: list[tuple] = []
    w = QualityWatch(lambda *a: got.append(a), comm_after_s=5, bad_after_s=10)
    never = filled(Quality.NOT_CONFIGURED)
    never[:4] = Quality.NO_VALUE
    assert device_lost(never)
    for t in range(7):
        w.update("P-1", t, never)
    assert got[-1][:3] == ("P-1", "comm", True) and "(no-value)" in got[-1][4]
    one = never.copy()
    one[:3] = Quality.GOOD
    assert not device_lost(one)
    for t in range(7, 18):
        w.update("P-1", t, one)
    assert got[-1][:3] == ("P-1", "signal", True) and f"{CHANNELS[3]} no-value" in got[-1][4], got


class OutageSource:
    """Wraps the simulator as a field device that drops out: inside each outage window every channel is
    COMM_FAIL with NaN values, as a Modbus or MQTT source reports a dead device."""

    def __init__(self, inner: PumpStation, outages: Sequence[tuple[float, float]], bad_flow: tuple[float, float]):
        self.inner, self.outages, self.bad_flow = inner, outages, bad_flow
        self.assets, self.stats = inner.assets, inner.stats

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        t0 = self.inner.config.start_ts
        for batch in self.inner.batches(stop):
            out = []
            for f in batch:
                rel = f.ts - t0
                q = np.zeros(N_CHANNELS, np.uint8)
                if any(a <= rel < b for a, b in self.outages):
                    q[:] = Quality.COMM_FAIL
                elif self.bad_flow[0] <= rel < self.bad_flow[1]:
                    q[INDEX["flow"]] = Quality.BAD
                out.append(Frame(f.asset, f.ts, np.where(q == 0, f.values, np.nan), q))
            yield out


def test_ten_outages_raise_a_diagnostic_never_an_anomaly(tmp_path: Path) -> None:
    station = PumpStation(StationConfig(n_pumps=1, seed=4, schedule=False), duration_s=3600 * 2)
    # after commissioning (300 s), ten outages of 20-120 s, then a flow transmitter reading bad for 60 s
    outages = [(900 + k * 500, 900 + k * 500 + 20 + 11 * k) for k in range(10)]
    # flow BAD for 5 minutes: long enough that its held value would look like a stuck sensor (a flat line)
    source = OutageSource(station, outages, bad_flow=(6500, 6800))
    engine = Engine(settings_for(tmp_path), source)
    q = collect(engine)
    engine.start()
    try:
        assert engine.wait(120)
    finally:
        engine.stop()
    seen = []
    while not q.empty():
        seen.append(q.get_nowait())
    raised = [e for e in seen if isinstance(e, events.AlarmRaised)]
    assert [e for e in raised if e.kind != "diagnostic"] == [], "an outage must not raise an anomaly alarm"
    comm = [e for e in raised if "communication lost" in e.message]
    assert len(comm) == 10  # one raise and nine re-activations of the same listed alarm
    assert len({e.alarm_id for e in comm}) == 1 and sum(e.reactivated for e in comm) == 9
    assert any("bad signal quality (flow bad)" in e.message for e in raised)
    with engine.db.connect() as c:
        alarm = c.execute(select(schema.alarms).where(schema.alarms.c.id == comm[0].alarm_id)).one()
        assert alarm.kind == "diagnostic" and alarm.activations == 10 and alarm.cleared_ts is not None
        rows = c.execute(select(schema.samples.c.ts, schema.samples.c["values"], schema.samples.c.quality,
                                schema.samples.c.score)
                         .where(schema.samples.c.ts >= station.config.start_ts + 905,
                                schema.samples.c.ts < station.config.start_ts + 915)).all()
    assert len(rows) == 10
    for r in rows:  # stored with its quality, never as a good value, never scored
        assert np.frombuffer(r.quality, np.uint8).tolist() == [int(Quality.COMM_FAIL)] * N_CHANNELS
        assert np.isnan(np.frombuffer(r[1], "<f8")).all() and r.score is None
    snap = engine.snapshot()
    assert snap.assets["P-101"].quality is not None and not snap.assets["P-101"].comm_lost
