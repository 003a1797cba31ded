"""Cloud verdicts on real parts: the engine with its MQTT uplink on a real Mosquitto broker, and the test playing
the cloud with a plain paho client (it reads the gateway's alarm messages and publishes confirmations).

Only an answer to a question the gateway asked, once, may change an alarm (docs/uplink.md "Accepting a
confirmation"). A refused confirmation is checked by a barrier: after it, the test raises a fresh alarm and sends
its genuine verdict from the same client; confirmations on one topic from one publisher arrive in order, so once
the fresh alarm shows its verdict, the refused one has been handled, and the alarm it named must be unchanged.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from acquisition.source import Frame, SourceStats
from app import events
from app.alarm_manager import Alarm
from app.cloud_verdicts import Rejection
from app.config import load_settings
from app.engine import Engine
from app.store import schema
from app.users import Role, Session
from detection.alerts import AlertStarted
from tests.support.broker import MosquittoBroker
from tests.support.waiting import wait_until

SITE, GW = "plant-1", "gw-1"
CONF_TOPIC = f"vigil/v1/{SITE}/{GW}/confirmation"
TOP = (("vib_de", 0.6), ("flow", 0.3))
MODEL_TS = 1_790_000_000.0  # when "ae-1" was made
SUP = Session("sue", Role.SUPERVISOR, 0)
VERDICTS = ("cloud confirmed", "cloud not confirmed")


@pytest.fixture(autouse=True)
def _private_keyring_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


class QuietSource:
    """No plant data: the test raises the alarms itself, as the detection thread would."""

    assets = ("P-101",)

    def __init__(self) -> None:
        self.stats = SourceStats()

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        stop.wait()
        yield from ()


def confirmation(alarm_id: str, *, confirmed: bool = True, mode: str | None = "cavitation",
                 priority: str | None = "high", model: str = "ae-1", model_ts: float = MODEL_TS,
                 gateway: str = GW, conf_id: str | None = None) -> bytes:
    doc = {"id": conf_id or uuid.uuid4().hex, "alarm_id": alarm_id, "gateway": gateway, "confirmed": confirmed,
           "failure_mode": mode if confirmed else None, "priority": priority if confirmed else None,
           "confidence": 0.9, "model_version": model, "model_created_ts": model_ts}
    return json.dumps(doc).encode()


class Cloud:
    """The cloud side: sees the gateway's alarm messages, publishes confirmations (QoS 1, in order)."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.alarm_ids: list[str] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-cloud", protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe(f"vigil/v1/{SITE}/{GW}/alarm", qos=1)
        self.client.on_message = lambda c, u, msg: self.alarm_ids.append(json.loads(msg.payload)["body"]["alarm_id"])
        # paho annotates the delays as int, but only waits on them: 0.1 s gets the cloud back soon after a restart
        self.client.reconnect_delay_set(0.1, 1)  # type: ignore[arg-type]
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, payload: bytes, retain: bool = False, topic: str = CONF_TOPIC) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)

    def wait_alarm(self, alarm_id: str) -> None:
        wait_until(lambda: alarm_id in self.alarm_ids, 60, f"alarm {alarm_id} at the cloud")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Gateway:
    def __init__(self, tmp_path: Path, port: int) -> None:
        settings = load_settings(environ={}, overrides={
            "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
            "uplink": {"enabled": True, "host": "127.0.0.1", "port": port, "tls": False},
            "cloud": {"timeout_s": 120.0},
        })
        self.engine = Engine(settings, QuietSource())
        self.seen: list[object] = []
        self.engine.subscribe(self.seen.append)
        self.engine.start()
        assert self.engine.uplink is not None and self.engine.uplink.wait_connected(20)
        self._n = 0

    def raise_alarm(self, asset: str = "P-101", score: float = 100.0) -> str:
        """An anomaly alarm as detection raises it, with the signal window its message carries."""
        now = time.time()
        for i in range(10, -1, -1):
            self.engine.live.append(asset, now - i, np.linspace(1.0, 8.0, 8), 0.5)
        self.engine.alarms.on_alert(asset, AlertStarted(now, score, TOP, reactivation=False))
        return next(e.alarm_id for e in reversed(self.seen) if isinstance(e, events.AlarmRaised) and e.asset == asset)

    def asked(self, cloud: Cloud, asset: str = "P-101") -> str:
        """An alarm raised and its message received by the cloud: the gateway is waiting for its verdict."""
        alarm_id = self.raise_alarm(asset)
        cloud.wait_alarm(alarm_id)
        return alarm_id

    def alarm(self, alarm_id: str) -> Alarm:
        return self.engine.alarms.get(alarm_id)

    def verdict_events(self, alarm_id: str) -> list[events.AlarmStateChanged]:
        return [e for e in list(self.seen) if isinstance(e, events.AlarmStateChanged) and e.alarm_id == alarm_id
                and e.event in VERDICTS]

    def wait_verdicts(self, alarm_id: str, n: int) -> None:
        wait_until(lambda: len(self.verdict_events(alarm_id)) >= n, 20, f"{n} verdict(s) on {alarm_id}")

    def barrier(self, cloud: Cloud) -> None:
        """Everything the cloud sent before this has been handled by the gateway (see the module docstring)."""
        self._n += 1
        fresh = self.asked(cloud, f"P-9{self._n:02d}")
        cloud.send(confirmation(fresh))
        self.wait_verdicts(fresh, 1)

    def rejected(self) -> dict[Rejection, int]:
        assert self.engine.uplink is not None
        counts = dict(self.engine.uplink.rejected_confirmations.counts())
        for reason, n in self.engine.alarms.rejected_verdicts.counts().items():
            counts[reason] = counts.get(reason, 0) + n
        return counts

    def stored_cloud(self, alarm_id: str) -> tuple:
        with self.engine.db.connect() as c:
            return c.execute(select(schema.alarms.c.priority, schema.alarms.c.cloud_state,
                                    schema.alarms.c.cloud_failure_mode, schema.alarms.c.cloud_priority)
                             .where(schema.alarms.c.id == alarm_id)).one()

    def stop(self) -> None:
        self.engine.stop()


@pytest.fixture
def gateway(tmp_path: Path, broker: MosquittoBroker) -> Iterator[Gateway]:
    gw = Gateway(tmp_path, broker.port)
    yield gw
    gw.stop()


@pytest.fixture
def cloud(broker: MosquittoBroker) -> Iterator[Cloud]:
    c = Cloud(broker)
    yield c
    c.close()


def cloud_of(a: Alarm) -> tuple:
    return a.priority, a.cloud.state, a.cloud.failure_mode, a.cloud.priority


def test_a_genuine_first_verdict_applies_and_a_newer_model_may_lower_the_priority(gateway: Gateway,
                                                                                   cloud: Cloud) -> None:
    a = gateway.asked(cloud)
    assert cloud_of(gateway.alarm(a)) == ("high", "analyzing", None, None)
    cloud.send(confirmation(a, mode="bearing_wear", priority="medium"))
    gateway.wait_verdicts(a, 1)
    assert cloud_of(gateway.alarm(a)) == ("medium", "confirmed", "bearing_wear", "medium")
    # the service was upgraded and judged the alarm again (a QoS 1 re-delivery reached another instance)
    cloud.send(confirmation(a, mode="other", priority="low", model="ae-2", model_ts=MODEL_TS + 86400))
    gateway.wait_verdicts(a, 2)
    assert cloud_of(gateway.alarm(a)) == ("low", "confirmed", "other", "low")
    # the old model's instance answering late is older, not newer
    cloud.send(confirmation(a, confirmed=False, model="ae-0", model_ts=MODEL_TS - 86400))
    gateway.barrier(cloud)
    assert cloud_of(gateway.alarm(a)) == ("low", "confirmed", "other", "low")
    gateway.wait_verdicts(a, 2)
    assert len(gateway.verdict_events(a)) == 2
    wait_until(lambda: gateway.stored_cloud(a) == ("low", "confirmed", "other", "low"), 10, "the stored alarm")
    assert gateway.rejected() == {Rejection.OLDER_MODEL: 1}


def test_a_replayed_confirmation_changes_nothing(gateway: Gateway, cloud: Cloud) -> None:
    a = gateway.asked(cloud)
    first = confirmation(a, mode="cavitation", priority="high")
    cloud.send(first)
    gateway.wait_verdicts(a, 1)
    cloud.send(confirmation(a, mode="seal_leak", priority="medium", model="ae-2", model_ts=MODEL_TS + 1))
    gateway.wait_verdicts(a, 2)
    for _ in range(3):
        cloud.send(first)  # the very same bytes, captured and played back
    gateway.barrier(cloud)
    assert cloud_of(gateway.alarm(a)) == ("medium", "confirmed", "seal_leak", "medium")
    assert len(gateway.verdict_events(a)) == 2
    assert gateway.rejected() == {Rejection.DUPLICATE: 3}


def test_a_flipped_sequence_from_one_model_keeps_the_first_verdict(gateway: Gateway, cloud: Cloud) -> None:
    a = gateway.asked(cloud)
    cloud.send(confirmation(a, mode="cavitation", priority="high"))
    cloud.send(confirmation(a, confirmed=False))  # same model, new ids: confirmed -> not confirmed -> confirmed
    cloud.send(confirmation(a, mode="seal_leak", priority="low"))
    gateway.barrier(cloud)
    assert cloud_of(gateway.alarm(a)) == ("high", "confirmed", "cavitation", "high")
    assert len(gateway.verdict_events(a)) == 1
    assert gateway.rejected() == {Rejection.SAME_MODEL: 2}


def test_a_lower_priority_from_the_same_model_version_is_ignored(gateway: Gateway, cloud: Cloud) -> None:
    a = gateway.asked(cloud)
    cloud.send(confirmation(a, mode="cavitation", priority="high"))
    gateway.wait_verdicts(a, 1)
    cloud.send(confirmation(a, mode="cavitation", priority="low"))
    # the same version claiming a later creation time is still the same model
    cloud.send(confirmation(a, mode="cavitation", priority="low", model_ts=MODEL_TS + 10 ** 6))
    gateway.barrier(cloud)
    assert cloud_of(gateway.alarm(a)) == ("high", "confirmed", "cavitation", "high")
    assert gateway.rejected() == {Rejection.SAME_MODEL: 2}


def test_a_retained_confirmation_is_never_applied_live_or_at_resubscribe(gateway: Gateway, cloud: Cloud,
                                                                         broker: MosquittoBroker) -> None:
    a = gateway.asked(cloud)
    cloud.send(confirmation(a, mode="other", priority="low"), retain=True)  # would be a fine first verdict
    gateway.barrier(cloud)
    assert cloud_of(gateway.alarm(a)) == ("high", "analyzing", None, None)
    assert gateway.rejected() == {Rejection.RETAINED: 1}
    broker.restart()  # the broker keeps retained messages; the gateway reconnects and subscribes again
    wait_until(lambda: gateway.rejected().get(Rejection.RETAINED) == 2, 30, "the retained one again at resubscribe")
    assert cloud_of(gateway.alarm(a)) == ("high", "analyzing", None, None)
    cloud.send(confirmation(a, mode="cavitation", priority="high"))  # the real answer still counts
    gateway.wait_verdicts(a, 1)
    assert cloud_of(gateway.alarm(a)) == ("high", "confirmed", "cavitation", "high")
    cloud.send(b"", retain=True)  # clears the retained message (the broker's persistence outlives the test)


def test_verdicts_for_alarms_this_gateway_never_asked_about_change_nothing(gateway: Gateway, cloud: Cloud,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    anomaly = gateway.asked(cloud)
    gateway.engine.alarms.on_diagnostic("P-150", "comm", True, time.time(), "P-150: communication lost")
    diagnostic = next(e.alarm_id for e in gateway.seen if isinstance(e, events.AlarmRaised) and e.asset == "P-150")
    gateway.engine.alarms.set_out_of_service("P-151", SUP, True, "maintenance")
    never_sent = gateway.raise_alarm("P-151")  # raised out of service: never sent to the cloud
    before = {i: gateway.alarm(i) for i in (anomaly, diagnostic, never_sent)}
    hostile = "A-nope\nCRITICAL app.engine: forged line \u202e"
    for alarm_id in (hostile, uuid.uuid4().hex, diagnostic, never_sent):  # a uuid: another gateway's alarm id
        cloud.send(confirmation(alarm_id, mode="other", priority="low"))
    cloud.send(confirmation(anomaly, mode="other", priority="low", gateway="gw-2"))  # our topic, their name
    for _ in range(30):
        cloud.send(confirmation(uuid.uuid4().hex))  # a flood: counted, logged once
    gateway.barrier(cloud)
    assert {i: gateway.alarm(i) for i in before} == before
    assert gateway.rejected() == {Rejection.UNKNOWN_ALARM: 32, Rejection.NOT_ANOMALY: 1, Rejection.NOT_ASKED: 1,
                                  Rejection.OTHER_GATEWAY: 1}
    refused = [r.getMessage() for r in caplog.records if "ignored a cloud confirmation" in r.getMessage()]
    assert len(refused) == 4, refused  # one line per reason: the flood of unknown ids is not 32 lines
    assert not any(c in m for m in refused for c in "\n\r\u202e"), refused
    assert any("forged line" in m and "\\n" in m for m in refused), refused


def test_numbers_that_broke_the_parser_do_not_stop_the_uplink(gateway: Gateway, cloud: Cloud) -> None:
    a = gateway.asked(cloud)
    good = json.loads(confirmation(a))
    for huge in ("1" * 5000, "1" + "0" * 400):  # over int_max_str_digits; over the largest float
        raw = json.dumps({**good, "id": uuid.uuid4().hex, "confidence": 0}).replace('"confidence": 0',
                                                                                     f'"confidence": {huge}')
        cloud.send(raw.encode())
    gateway.barrier(cloud)
    assert gateway.engine.uplink is not None and gateway.engine.uplink.failed is None
    assert cloud_of(gateway.alarm(a)) == ("high", "analyzing", None, None)
    assert gateway.rejected() == {Rejection.MALFORMED: 2}
