"""The hybrid edge-cloud loop end to end on real parts: the engine on the simulator with the MQTT uplink, a real
Mosquitto broker, and the real cloud confirmation service (python -m detection.cloud, its LiteRT models) in its
own process. The HMI's cloud column follows these engine states."""
from __future__ import annotations

import queue
import subprocess
import sys
from pathlib import Path

import pytest

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from app import events
from app.config import load_settings
from app.engine import Engine
from tests.support.broker import MosquittoBroker, free_port, have_mosquitto
from tests.support.waiting import next_event, wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not have_mosquitto(), reason="mosquitto not installed (make test installs it)")


@pytest.fixture(autouse=True)
def _private_keyring_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def start_cloud(port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "detection.cloud", "--broker", f"127.0.0.1:{port}"], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    return proc


def wait_subscribed(log: Path, timeout: float = 30.0) -> None:
    """The service prints 'subscribed' once its shared subscription is in place (before that the broker would
    drop an alarm for the group: nobody is subscribed)."""
    wait_until(lambda: "subscribed; answering alarms" in (log.read_text() if log.exists() else ""), timeout,
               "the cloud service's subscription (its log)")


def engine_for(tmp_path: Path, port: int, faults: list[FaultSpec], timeout_s: float = 30.0) -> Engine:
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "uplink": {"enabled": True, "host": "127.0.0.1", "port": port, "tls": False},
        "cloud": {"timeout_s": timeout_s},
    })
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), faults=faults, duration_s=2400)
    return Engine(settings, station)


def test_edge_alarm_is_confirmed_by_the_cloud_service(tmp_path: Path) -> None:
    with MosquittoBroker(tmp_path / "broker") as broker:
        cloud = start_cloud(broker.port, tmp_path / "cloud.log")
        wait_subscribed(tmp_path / "cloud.log")
        engine = engine_for(tmp_path, broker.port, [FaultSpec("P-101", FaultKind.CAVITATION, 900)])
        q: queue.Queue = queue.Queue()
        engine.subscribe(q.put)
        try:
            engine.start()
            assert engine.uplink is not None and engine.uplink.wait_connected(20)
            raised = next_event(q, lambda e: isinstance(e, events.AlarmRaised) and e.kind == "anomaly", 120,
                                "the edge alarm")
            verdict = next_event(q, lambda e: isinstance(e, events.AlarmStateChanged) and e.alarm_id ==
                                 raised.alarm_id and e.event.startswith("cloud ") and e.event != "cloud analyzing",
                                 60, f"the cloud's verdict (service log: {tmp_path / 'cloud.log'})")
            alarm = engine.alarms.get(raised.alarm_id)
            assert verdict.event == "cloud confirmed", (alarm.cloud, (tmp_path / "cloud.log").read_text()[-2000:])
            assert alarm.cloud.failure_mode == "cavitation" and alarm.cloud.priority in ("medium", "high")
            assert alarm.cloud.text.startswith("cloud confirmed: cavitation")
            # the real service's answers pass every check of docs/uplink.md "Accepting a confirmation"
            assert engine.uplink.rejected_confirmations.total == 0 and engine.alarms.rejected_verdicts.total == 0
        finally:
            engine.stop()
            cloud.terminate()
            cloud.wait(10)


def test_uplink_down_then_back_a_late_answer_still_updates_the_alarm(tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet: the uplink is down when the alarm is raised
    engine = engine_for(tmp_path, port, [FaultSpec("P-102", FaultKind.BEARING_WEAR, 900)], timeout_s=2.0)
    q: queue.Queue = queue.Queue()
    engine.subscribe(q.put)
    broker = MosquittoBroker(tmp_path / "broker")
    cloud = link = None
    try:
        engine.start()
        raised = next_event(q, lambda e: isinstance(e, events.AlarmRaised) and e.kind == "anomaly", 120,
                            "the edge alarm")
        alarm = engine.alarms.get(raised.alarm_id)
        assert alarm.cloud.text == "cloud unreachable - edge only"
        assert engine.snapshot().uplink.state != "connected" and engine.snapshot().uplink.backlog >= 1
        broker.start()
        cloud = start_cloud(broker.port, tmp_path / "cloud.log")
        wait_subscribed(tmp_path / "cloud.log")
        # the gateway's network comes back: a TCP relay on the port it keeps trying
        link = subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
                                 f"TCP:127.0.0.1:{broker.port}"])
        next_event(q, lambda e: isinstance(e, events.AlarmStateChanged) and e.alarm_id == raised.alarm_id
                   and e.event == "cloud analyzing", 60, "the queued alarm reaching the broker")
        verdict = next_event(q, lambda e: isinstance(e, events.AlarmStateChanged) and e.alarm_id == raised.alarm_id
                             and e.event in ("cloud confirmed", "cloud not confirmed"), 60, "the late verdict")
        assert verdict.event == "cloud confirmed"
        assert engine.alarms.get(raised.alarm_id).cloud.failure_mode == "bearing_wear"
    finally:
        engine.stop()
        for proc in (cloud, link):
            if proc is not None:
                proc.terminate()
                proc.wait(10)
        broker.stop()
