"""A data logger that publishes once a minute, end to end (issue 10, item 4): simulated pumps sampled every 60 s,
published as JSON through a real Mosquitto, read by Vigil's MQTT ingest with a 60 s frame period, scored by the
engine. The plant clock runs 300 times faster than real time (acquisition.source.SourceClock) so that four hours
of plant take under a minute; nothing else is changed.

The logger is not in step with the frames (it publishes half a period after each frame tick, with the jitter of
two threads on a busy machine) and it skips one message in twelve, so some frames repeat the value held from the
previous minute. What must hold: no channel ever STALE (no diagnostic alarm), no alarm before the fault, no alarm
on the healthy pump (held values are not a stuck sensor), both pumps commissioned and scored, and the fault found
on the right pump within minutes, as at one sample a second.
"""
from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from acquisition.channels import CHANNELS
from acquisition.mqtt_ingest import MqttIngestSource, parse_ingest_map
from acquisition.simulator import FaultKind, FaultSpec, PumpStation, SimulationResult, StationConfig
from acquisition.source import SourceClock
from app import events
from app.config import load_settings
from app.engine import Engine
from tests.support.broker import MosquittoBroker, requires_mosquitto
from tests.support.waiting import next_event, wait_until

SPEED = 300.0  # plant seconds per real second (a loaded 2-core machine still delivers a minute in 0.2 s)
PERIOD_S = 60.0
ONSET_S = 150 * 60.0  # commissioning at one sample a minute takes a little over two hours
END_S = ONSET_S + 45 * 60.0
SKIP_EVERY = 12  # the logger misses one message in this many


class MinuteLogger(threading.Thread):
    """Publishes each simulated pump's minute sample as JSON, half a period after the frames, on the same clock."""

    def __init__(self, broker: MosquittoBroker, clock: SourceClock, run: SimulationResult, start_mono: float) -> None:
        super().__init__(name="minute-logger", daemon=True)
        self.clock, self.run_, self.start_mono = clock, run, start_mono
        self.stop = threading.Event()
        self.published = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="minute-logger")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def run(self) -> None:
        for k, values in enumerate(self.run_.values):
            due = self.start_mono + k * PERIOD_S + PERIOD_S / 2
            if self.clock.wait(self.stop, due - self.clock.monotonic()):
                return
            if k % SKIP_EVERY == SKIP_EVERY - 1:
                continue
            for j, asset in enumerate(self.run_.assets):
                body = {"values": {c: float(values[j, i]) for i, c in enumerate(CHANNELS)}}
                self.client.publish(f"plant/loggers/{asset}/minute", json.dumps(body), qos=1).wait_for_publish(5)
            self.published += 1

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.client.loop_stop()
        self.client.disconnect()


@requires_mosquitto
def test_a_minute_logger_through_mosquitto_is_scored_as_at_one_second(broker: MosquittoBroker, tmp_path: Path) -> None:
    clock = SourceClock(SPEED)
    ingest = parse_ingest_map({
        "broker": {"host": broker.host, "port": broker.port, "client_id": "vigil-minute-ingest"},
        "frames": {"period_s": PERIOD_S},  # stale_after keeps its default: five periods
        "json": [{"topic": "plant/loggers/+/minute", "asset_level": 2, "assets": ["P-101", "P-102"]}],
    })
    source = MqttIngestSource(ingest, clock=clock)
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")}})
    engine = Engine(settings, source)
    seen: queue.Queue = queue.Queue()
    engine.subscribe(seen.put)
    plant = PumpStation(StationConfig(n_pumps=2, seed=3, sample_period_s=PERIOD_S, schedule=False),
                        faults=[FaultSpec("P-101", FaultKind.CAVITATION, ONSET_S)]).simulate(END_S)
    engine.start()
    logger: MinuteLogger | None = None
    log: list[object] = []
    try:
        assert source.wait_subscribed(10), "the ingest did not subscribe to the broker"
        logger = MinuteLogger(broker, clock, plant, clock.monotonic())
        logger.start()
        t0 = clock.time()

        def learning_shown() -> bool:
            progress = engine.snapshot().assets["P-101"].learning_progress
            return progress is not None and progress.samples > 0 and progress.needed == 120

        wait_until(learning_shown, 30, "'Learning normal: n of 120 samples' on the asset status")
        for _ in ("P-101", "P-102"):
            next_event(seen, lambda e: isinstance(e, events.CommissioningCompleted), 60, "commissioning", log)
        raised = next_event(seen, lambda e: isinstance(e, events.AlarmRaised), 60, "the cavitation alarm", log)
        wait_until(lambda: not logger.is_alive(), 60, "the logger to publish its last minute")
    finally:
        if logger is not None:
            logger.close()
        engine.stop()
    while not seen.empty():
        log.append(seen.get_nowait())
    alarms = [e for e in log if isinstance(e, events.AlarmRaised)]
    assert raised.asset == "P-101" and raised.kind == "anomaly", raised
    delay_min = (raised.ts - t0 - ONSET_S) / 60.0
    assert 0 <= delay_min <= 30, f"cavitation found {delay_min:.0f} min after its onset"
    anomalies = [a for a in alarms if a.kind == "anomaly"]
    assert not [a for a in anomalies if a.asset == "P-102"], "the healthy pump raised an alarm"
    # Before the logger's first message every channel has NO_VALUE, and after its last one it goes STALE for good (the
    # engine runs on while the test stops); while messages flow, none may go STALE between them.
    flowing = t0 + 3 * PERIOD_S
    late = [a for a in alarms if a.kind == "diagnostic" and flowing < a.ts <= t0 + END_S]
    assert not late, f"a channel went STALE (or bad) between messages: {late}"
    assert logger.published > 0.9 * len(plant.ts)
    snap = engine.snapshot()
    assert all(s.commissioned for s in snap.assets.values())
    assert all(abs(s.sample_period_s - PERIOD_S) < 1.0 for s in snap.assets.values())
    _, _, scores = engine.history("P-102", t0 + ONSET_S, t0 + END_S)
    assert len(scores) > 30
    assert np.isfinite(scores).mean() > 0.9, "the healthy pump is scored at nearly every minute"
