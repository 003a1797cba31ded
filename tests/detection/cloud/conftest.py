"""Fixtures for the cloud service tests: the shipped models, real alarm windows, services on a real broker, and a
gateway-side MQTT client that is not Vigil's code (plain paho)."""
from __future__ import annotations

import itertools
import queue
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from detection.cloud.models import DEFAULT_DIR, CloudModels
from detection.cloud.protocol import encode_alarm
from detection.cloud.service import BrokerSettings, CloudService, ServiceEvent

TIMEOUT = 15.0  # seconds any single wait may take before the test fails


@pytest.fixture(scope="session")
def models() -> CloudModels:
    return CloudModels(DEFAULT_DIR)


@pytest.fixture(scope="session")
def reference() -> dict[str, np.ndarray]:
    """The windows the training script stored with its own (scikit-learn) results: one per kind."""
    with np.load(DEFAULT_DIR / "reference_windows.npz") as d:
        return {k: d[k] for k in d.files}


_seq = itertools.count(1)


def alarm_payload(reference: dict[str, np.ndarray], kind: str, *, alarm_id: str, site: str = "plant-1",
                  gateway: str = "gw-1", msg_id: str | None = None) -> bytes:
    i = int(np.nonzero(reference["kind"] == kind)[0][0])
    ts, values = reference["ts"][i], reference["values"][i].astype(np.float64)
    return encode_alarm(site=site, gateway=gateway, seq=next(_seq), alarm_id=alarm_id, asset="P-101",
                        raised_ts=float(ts[-1]), peak_score=1.6, priority="high",
                        top_channels=[("vib_de", 0.6), ("flow", 0.3)], ts=ts, values=values, msg_id=msg_id)


class ServiceRunner:
    """A CloudService whose events land in a queue the test waits on."""

    def __init__(self, broker, models: CloudModels, client_id: str) -> None:  # MosquittoBroker
        self.events: queue.Queue[ServiceEvent] = queue.Queue()
        self.service = CloudService(BrokerSettings(broker.host, broker.port, client_id=client_id), models,
                                    listener=self.events.put)

    def next_event(self, kind: type, timeout: float = TIMEOUT) -> ServiceEvent:
        """The next event of ``kind`` (others are skipped); fails the test after ``timeout``."""
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {kind.__name__} from {self.service.client_id} within {timeout} s")
            if isinstance(event, kind):
                return event


@pytest.fixture
def start_service(broker, models: CloudModels) -> Iterator[Callable[[str], ServiceRunner]]:
    runners: list[ServiceRunner] = []

    def start(client_id: str = "cloud-test-1") -> ServiceRunner:
        runner = ServiceRunner(broker, models, client_id)
        runner.service.start()
        assert runner.service.wait_ready(TIMEOUT), "the service did not connect and subscribe"
        runners.append(runner)
        return runner

    yield start
    for r in runners:
        r.service.stop()


class Gateway:
    """A plain paho MQTT v5 client playing the edge: publishes alarms, collects confirmations."""

    def __init__(self, broker, client_id: str = "test-gateway") -> None:
        self.confirmations: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._subscribed: queue.Queue[bool] = queue.Queue()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        c.on_message = lambda _c, _u, msg: self.confirmations.put((msg.topic, bytes(msg.payload)))
        c.on_subscribe = lambda *_: self._subscribed.put(True)
        c.connect(broker.host, broker.port, keepalive=30)
        c.loop_start()
        c.subscribe("vigil/v1/+/+/confirmation", qos=1)
        self._subscribed.get(timeout=TIMEOUT)
        self.client = c

    def publish(self, payload: bytes, site: str = "plant-1", gateway: str = "gw-1", kind: str = "alarm") -> None:
        info = self.client.publish(f"vigil/v1/{site}/{gateway}/{kind}", payload, qos=1)
        info.wait_for_publish(TIMEOUT)

    def next_confirmation(self, timeout: float = TIMEOUT) -> tuple[str, bytes]:
        try:
            return self.confirmations.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no confirmation within {timeout} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def gateway(broker) -> Iterator[Gateway]:
    g = Gateway(broker)
    yield g
    g.close()


@pytest.fixture
def models_dir() -> Path:
    return DEFAULT_DIR
