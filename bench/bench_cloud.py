"""Cloud confirmation round trip on loopback: edge alarm published -> confirmation received, through Mosquitto.

    python -m bench.bench_cloud

The service runs as its own process (`python -m detection.cloud`), as deployed; a plain paho client plays the
gateway. Latency: alarms sent one at a time at 20/s (each a real 300 s window, ~30 KiB). Throughput: a burst of
alarms as fast as the gateway can publish, answered by one instance and then by two sharing the subscription.
"""
from __future__ import annotations

import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from detection.cloud.models import DEFAULT_DIR
from detection.cloud.protocol import encode_alarm, parse_confirmation
from tests.support.broker import MosquittoBroker, have_mosquitto

ROOT = Path(__file__).resolve().parents[1]
LATENCY_ALARMS, BURST_ALARMS = 100, 400


def start_instance(broker: MosquittoBroker, name: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "detection.cloud", "--broker", f"{broker.host}:{broker.port}",
                             "--client-id", name, "--log-level", "WARNING"], cwd=ROOT)
    return proc


class Gateway:
    def __init__(self, broker: MosquittoBroker) -> None:
        self.received: queue.Queue[tuple[str, float]] = queue.Queue()
        ready = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-gw", protocol=MQTTProtocolVersion.MQTTv5)
        c.on_message = lambda _c, _u, m: self.received.put((parse_confirmation(m.payload).alarm_id,
                                                            time.perf_counter()))
        c.on_subscribe = lambda *_: ready.set()
        c.connect(broker.host, broker.port)
        c.loop_start()
        c.subscribe("vigil/v1/bench/gw-1/confirmation", qos=1)
        ready.wait(10)
        self.client = c
        with np.load(DEFAULT_DIR / "reference_windows.npz") as d:
            self.ts, self.values = d["ts"][1], d["values"][1].astype(np.float64)
        self.seq = 0

    def alarm(self, alarm_id: str) -> bytes:
        self.seq += 1
        return encode_alarm(site="bench", gateway="gw-1", seq=self.seq, alarm_id=alarm_id, asset="P-101",
                            raised_ts=float(self.ts[-1]), peak_score=1.5, priority="high",
                            top_channels=[("vib_de", 1.0)], ts=self.ts, values=self.values)

    def publish(self, alarm_id: str) -> float:
        payload = self.alarm(alarm_id)
        t = time.perf_counter()
        self.client.publish("vigil/v1/bench/gw-1/alarm", payload, qos=1)
        return t

    def wait_until_answering(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        n = 0
        while time.monotonic() < deadline:
            n += 1
            self.publish(f"probe-{n}")
            try:
                self.received.get(timeout=1.0)
                time.sleep(1.0)  # let late answers to earlier probes arrive before measuring
                while not self.received.empty():
                    self.received.get_nowait()
                return
            except queue.Empty:
                continue
        raise RuntimeError("the cloud service never answered")


def latency(gw: Gateway) -> np.ndarray:
    out = []
    for i in range(LATENCY_ALARMS):
        sent = gw.publish(f"lat-{i}")
        alarm_id, got = gw.received.get(timeout=10)
        assert alarm_id == f"lat-{i}"
        out.append((got - sent) * 1000)
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - sent)))
    return np.array(out)


def burst(gw: Gateway, tag: str) -> float:
    t0 = time.perf_counter()
    for i in range(BURST_ALARMS):
        gw.publish(f"{tag}-{i}")
    last = t0
    for _ in range(BURST_ALARMS):
        _, last = gw.received.get(timeout=60)
    return BURST_ALARMS / (last - t0)


def main() -> None:
    if not have_mosquitto():
        print("mosquitto not installed: skipped")
        return
    # Nagle + delayed ACK otherwise hold each ~30 KiB alarm for ~40 ms per hop (mosquitto default: off).
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker(Path(tmp), extra_conf="set_tcp_nodelay true") as broker:
        procs = [start_instance(broker, "bench-cloud-1")]
        try:
            gw = Gateway(broker)
            gw.wait_until_answering()
            lat = latency(gw)
            one = burst(gw, "one")
            procs.append(start_instance(broker, "bench-cloud-2"))
            time.sleep(2.0)  # the second instance subscribes; a wait, not an assertion
            two = burst(gw, "two")
        finally:
            for p in procs:
                p.terminate()
                p.wait(10)
    print(f"Alarm -> cloud confirmation round trip on loopback ({LATENCY_ALARMS} alarms at 20/s, ~30 KiB each, "
          f"service in its own process)")
    print(f"  p50 {np.percentile(lat, 50):.1f} ms   p95 {np.percentile(lat, 95):.1f} ms   max {lat.max():.1f} ms"
          f"   (goal p95 <= 2000 ms edge -> HMI)")
    print(f"Burst of {BURST_ALARMS} alarms: {one:.0f} confirmations/s with one instance, {two:.0f}/s with two "
          f"sharing $share/vigil-cloud (2 cores, gateway client included)")


if __name__ == "__main__":
    main()
