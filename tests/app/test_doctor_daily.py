"""The engine's daily health check (app/daily_checks.py): it runs doctor's checks on its own timer, reading the
engine's state for the source and the broker (the devices and the broker session are the engine's), and its
result reaches the snapshot and, small and escaped, the uplink heartbeat on a real broker."""
from __future__ import annotations

import json
import queue
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from acquisition.simulator import PumpStation, StationConfig
from app import doctor
from app.config import load_settings
from app.daily_checks import ChecksSummary, DailyChecks
from app.doctor import DoctorContext, Finding, Status
from app.engine import Engine
from tests.support.broker import MosquittoBroker, requires_mosquitto
from tests.support.waiting import wait_until

HOSTILE = "pump said \"x\"\n2026-12-04 CRITICAL forged line\x1b[31m \u2028 end"


@pytest.fixture
def failing_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every real check, plus one that always finds a problem whose text quotes hostile outside input."""
    monkeypatch.setattr(doctor, "CHECKS", dict(doctor.CHECKS))
    monkeypatch.setattr(doctor, "TIMEOUTS", dict(doctor.TIMEOUTS))

    @doctor.check("always-fails")
    def always_fails(ctx: DoctorContext) -> list[Finding]:
        return [Finding("always-fails", Status.PROBLEM, HOSTILE)]


@pytest.fixture(autouse=True)
def _private_keyring_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


class HeartbeatListener:
    """A real MQTT subscriber to the gateway's heartbeat topic; bodies land in a queue."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.bodies: queue.Queue[dict] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-heartbeats")
        subscribed = queue.Queue[bool]()
        self.client.on_message = lambda c, u, m: self.bodies.put(json.loads(m.payload)["body"])
        self.client.on_subscribe = lambda c, u, mid, rc, props: subscribed.put(True)
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("vigil/v1/plant-1/gw-1/heartbeat", qos=0)
        self.client.loop_start()
        subscribed.get(timeout=10)

    def next_with_checks(self, timeout: float) -> dict:
        wait_until(lambda: self._has_checks(), timeout, "a heartbeat carrying the daily check's result")
        return self._found

    def _has_checks(self) -> bool:
        while not self.bodies.empty():
            body = self.bodies.get()
            if "checks" in body:
                self._found = body
                return True
        return False

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@requires_mosquitto
def test_the_daily_run_reaches_the_snapshot_and_the_heartbeat(tmp_path: Path, failing_check: None) -> None:
    with MosquittoBroker(tmp_path / "broker") as broker:
        listener = HeartbeatListener(broker)
        settings = load_settings(environ={}, overrides={
            "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
            "uplink": {"enabled": True, "host": broker.host, "port": broker.port, "tls": False, "heartbeat_s": 1},
            "engine": {"checks_first_after_s": 2, "checks_every_s": 3600}})
        engine = Engine(settings, PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), speed=1.0))
        try:
            engine.start()
            body = listener.next_with_checks(60)
            snap_checks = engine.snapshot().checks
        finally:
            engine.stop()
            listener.stop()
    assert engine.daily.runs == 1  # the first run 2 s after start (source and uplink going), the next an hour later
    checks = body["checks"]
    assert checks["status"] == "problem"
    assert list(checks["checks"]) == list(doctor.CHECKS)
    assert checks["checks"]["always-fails"] == "problem" and checks["checks"]["database"] == "ok"
    assert checks["checks"]["sources"] == "ok" and checks["checks"]["broker"] in ("ok", "warning")
    assert len(checks["problems"]) == 1
    problem = checks["problems"][0]
    assert problem.isascii() and "\n" not in problem and "\x1b" not in problem and "\\n2026-12-04" in problem
    assert len(json.dumps(checks)) < 1000  # small: a QoS 0 message every heartbeat_s
    assert isinstance(snap_checks, ChecksSummary) and snap_checks.headline.startswith("HEALTH CHECK: always-fails:")


def test_the_first_run_waits_and_the_checks_read_the_engine_not_the_devices(tmp_path: Path) -> None:
    """The run uses ctx.live: the sources check reports from the engine's snapshot (no device is opened)."""
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "engine": {"checks_first_after_s": 3600}})
    engine = Engine(settings, PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), speed=1.0))
    try:
        engine.start()
        assert engine.snapshot().checks is None and engine.daily.runs == 0  # start-up is not slowed by it
        seen: list[DoctorContext] = []

        def run(ctx: DoctorContext) -> list[Finding]:
            seen.append(ctx)
            return doctor.run_checks(ctx, ["sources", "broker"])

        summary = DailyChecks(settings, engine.snapshot, run=run).run_now()
    finally:
        engine.stop()
    assert seen[0].live is not None
    assert summary.status is Status.OK and summary.headline == ""
    assert summary.checks == {"sources": Status.OK, "broker": Status.OK}
