"""Edge alarm -> cloud verdict on the alarm, through the whole product path on loopback.

    python -m bench.bench_hybrid

The real engine on the simulator (8 pumps, a fault on each at staggered times, plant at 60x real time) with the
MQTT uplink enabled, a real Mosquitto broker and the real cloud service (python -m detection.cloud, LiteRT models)
in its own process. Measured from the moment the engine announces the alarm (AlarmRaised, detection thread) to
the moment it announces the cloud's verdict on it (AlarmStateChanged "cloud confirmed"/"cloud not confirmed"):
outbox commit, publish, broker, service, confirmation, alarm update. The HMI shows that state at its next bridge
tick (25 Hz: + <= 40 ms; bench.bench_gui measures the bridge-to-table part). Goal: p95 <= 2 s.
Numbers are printed; nothing is asserted.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from app import events
from app.alarm_model import AlarmEvent, AlarmKind
from app.config import load_settings
from app.engine import Engine
from tests.support.broker import MosquittoBroker, have_mosquitto

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("cavitation", "bearing_wear", "impeller_imbalance", "inlet_valve_closure", "outlet_valve_closure",
         "seal_leak", "sensor_drift", "sensor_dropout")


def one_run(work: Path, broker: MosquittoBroker, seed: int) -> tuple[list[float], dict[str, int]]:
    os.environ["XDG_CONFIG_HOME"] = str(work / "xdg-config")
    os.environ["XDG_DATA_HOME"] = str(work / "xdg-data")
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(work / f"vigil-{seed}.db")}, "logging": {"dir": str(work / "log")},
        "uplink": {"enabled": True, "host": broker.host, "port": broker.port, "tls": False},
    })
    faults = [FaultSpec(f"P-{101 + i}", FaultKind(KINDS[i]), 900 + 150 * i) for i in range(8)]
    station = PumpStation(StationConfig(n_pumps=8, seed=seed, schedule=False), faults=faults, speed=60,
                          duration_s=900 + 150 * 8 + 400)
    engine = Engine(settings, station)
    raised: dict[str, float] = {}
    lat: list[float] = []
    verdicts = {AlarmEvent.CLOUD_CONFIRMED.value: 0, AlarmEvent.CLOUD_NOT_CONFIRMED.value: 0}  # printed as text
    lock = threading.Lock()

    def on_event(e: object) -> None:
        now = time.monotonic()
        with lock:
            if isinstance(e, events.AlarmRaised) and e.kind is AlarmKind.ANOMALY and not e.reactivated:
                raised[e.alarm_id] = now
            elif isinstance(e, events.AlarmStateChanged) and e.event in verdicts and e.alarm_id in raised:
                lat.append(now - raised.pop(e.alarm_id))
                verdicts[e.event.value] += 1

    engine.subscribe(on_event)
    engine.start()
    try:
        assert engine.uplink is not None and engine.uplink.wait_connected(20)
        engine.wait(600)
        deadline = time.monotonic() + 10  # let the last verdicts arrive
        while raised and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        engine.stop()
    verdicts["unanswered"] = len(raised)
    return lat, verdicts


def main() -> None:
    if not have_mosquitto():
        print("bench_hybrid: mosquitto not installed; skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with MosquittoBroker(work / "broker") as broker:
            cloud = subprocess.Popen([sys.executable, "-m", "detection.cloud", "--broker",
                                      f"{broker.host}:{broker.port}", "--log-level", "WARNING"], cwd=ROOT)
            try:
                time.sleep(3)  # the service's start-up (LiteRT, models); alarms come minutes of plant time later
                lat: list[float] = []
                total: dict[str, int] = {}
                for seed in (0, 1):
                    ms, verdicts = one_run(work, broker, seed)
                    lat += ms
                    for k, v in verdicts.items():
                        total[k] = total.get(k, 0) + v
            finally:
                cloud.terminate()
                cloud.wait(10)
    lat.sort()
    if not lat:
        print("bench_hybrid: no verdicts measured", total)
        return

    def p(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

    print(f"edge alarm -> cloud verdict on the alarm (engine events, n={len(lat)}): p50 {p(0.5):.0f} ms, "
          f"p95 {p(0.95):.0f} ms, max {lat[-1] * 1000:.0f} ms, mean {statistics.mean(lat) * 1000:.0f} ms "
          f"(goal p95 <= 2000 ms); verdicts {total}; load {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
