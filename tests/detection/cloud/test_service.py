"""The confirmation service against a real Mosquitto broker, with a plain paho client playing the gateway."""
from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from detection.cloud.protocol import (
    Confirmation,
    encode_status,
    new_message_id,
    parse_confirmation,
)
from detection.cloud.service import AlarmAnswered, DuplicateIgnored, GatewayStatusChanged, MessageDropped
from tests.detection.cloud.conftest import TIMEOUT, Gateway, alarm_payload

ROOT = Path(__file__).resolve().parents[3]


def test_alarm_is_answered_on_its_gateways_topic(start_service, gateway: Gateway, models,
                                                 reference) -> None:
    start_service()
    gateway.publish(alarm_payload(reference, "cavitation", alarm_id="A-cav", site="plant-7", gateway="gw-3"),
                    site="plant-7", gateway="gw-3")
    topic, payload = gateway.next_confirmation()
    assert topic == "vigil/v1/plant-7/gw-3/confirmation"
    conf = parse_confirmation(payload)  # the edge's own parser accepts it
    i = int(np.nonzero(reference["kind"] == "cavitation")[0][0])
    expected = models.judge(reference["ts"][i], reference["values"][i].astype(np.float64))
    assert (conf.alarm_id, conf.gateway, conf.model_version) == ("A-cav", "gw-3", models.version)
    assert (conf.confirmed, conf.failure_mode, conf.priority) == (expected.confirmed, expected.failure_mode,
                                                                  expected.priority)
    assert conf.confirmed and conf.failure_mode == "cavitation" and conf.priority == "high"

    gateway.publish(alarm_payload(reference, "normal", alarm_id="A-normal"))
    _, payload = gateway.next_confirmation()
    conf = parse_confirmation(payload)
    assert (conf.alarm_id, conf.confirmed, conf.failure_mode, conf.priority) == ("A-normal", False, None, None)


def test_a_redelivered_alarm_is_answered_once(start_service, gateway: Gateway, reference) -> None:
    svc = start_service()
    payload = alarm_payload(reference, "seal_leak", alarm_id="A-dup")
    gateway.publish(payload)
    gateway.publish(payload)  # same envelope id: a QoS 1 re-delivery
    assert parse_confirmation(gateway.next_confirmation()[1]).alarm_id == "A-dup"
    assert svc.next_event(DuplicateIgnored).alarm_id == "A-dup"
    gateway.publish(alarm_payload(reference, "bearing_wear", alarm_id="A-after"))
    # Confirmations from one service arrive in order: the next one is the new alarm's, not a second A-dup.
    assert parse_confirmation(gateway.next_confirmation()[1]).alarm_id == "A-after"
    assert svc.service.answered == 2


def _bad_messages(reference) -> list[tuple[str, bytes, str]]:
    good = json.loads(alarm_payload(reference, "cavitation", alarm_id="A-bad"))
    wrong_type = json.loads(json.dumps(good))
    wrong_type["body"]["window"]["values"][3][2] = "17.2"
    unknown = json.loads(json.dumps(good))
    unknown["body"]["firmware"] = "1.2"
    other_gateway = json.loads(json.dumps(good))
    other_gateway["gateway"] = "gw-9"
    confirmation = Confirmation(new_message_id(), "A-1", "gw-1", True, "cavitation", "high", 0.9, "ae-x",
                                1.8e9).encode()
    return [
        ("malformed JSON", b'{"id": "abc", "stream": ', "not JSON"),
        ("wrong type", json.dumps(wrong_type).encode(), "body.window.values[3][2] must be a number or null"),
        ("unknown field", json.dumps(unknown).encode(), "unknown field(s) firmware"),
        ("oversized", b"{" + b" " * (256 * 1024) + b"}", "over the 262144-byte limit"),
        ("confirmation on the alarm topic", confirmation, "this is a confirmation (cloud -> edge), not an alarm"),
        ("another gateway's envelope", json.dumps(other_gateway).encode(), "differ from the topic"),
        ("not UTF-8", b"\xff" * 10, "not UTF-8"),
    ]


def test_bad_messages_are_logged_and_ignored(start_service, gateway: Gateway, reference,
                                            caplog) -> None:
    caplog.set_level(logging.WARNING, logger="detection.cloud.service")
    svc = start_service()
    for what, payload, reason in _bad_messages(reference):
        gateway.publish(payload)
        dropped = svc.next_event(MessageDropped)
        assert reason in dropped.reason, f"{what}: {dropped.reason}"
        assert any(reason in r.getMessage() and "vigil/v1/plant-1/gw-1/alarm" in r.getMessage()
                   for r in caplog.records), f"{what} was not logged"
    gateway.publish(alarm_payload(reference, "outlet_valve_closure", alarm_id="A-still-alive"))
    conf = parse_confirmation(gateway.next_confirmation()[1])
    assert conf.alarm_id == "A-still-alive"
    assert gateway.confirmations.empty(), "a bad message was answered"
    assert svc.service.dropped == len(_bad_messages(reference))


def test_two_instances_share_the_load_and_answer_each_alarm_once(start_service, gateway: Gateway,
                                                                 reference) -> None:
    a, b = start_service("cloud-a"), start_service("cloud-b")
    kinds = [k for k in reference["kind"]]
    ids = [f"A-{i:03d}" for i in range(40)]
    for i, alarm_id in enumerate(ids):
        gateway.publish(alarm_payload(reference, str(kinds[i % len(kinds)]), alarm_id=alarm_id))
    got = [parse_confirmation(gateway.next_confirmation()[1]).alarm_id for _ in ids]
    assert sorted(got) == ids, "every alarm answered exactly once"
    # A last alarm, and its answer: anything answered twice would have arrived before it (per-client order).
    gateway.publish(alarm_payload(reference, "normal", alarm_id="A-last"))
    last = parse_confirmation(gateway.next_confirmation()[1]).alarm_id
    assert last == "A-last"
    answered_a = [a.next_event(AlarmAnswered, timeout=0.1) for _ in range(a.service.answered)]
    answered_b = [b.next_event(AlarmAnswered, timeout=0.1) for _ in range(b.service.answered)]
    assert a.service.answered > 0 and b.service.answered > 0, (a.service.answered, b.service.answered)
    assert a.service.answered + b.service.answered == 41
    from_a = {e.confirmation.alarm_id for e in answered_a}
    from_b = {e.confirmation.alarm_id for e in answered_b}
    assert not from_a & from_b


GATEWAY_SCRIPT = textwrap.dedent("""
    import signal, sys
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    host, port = sys.argv[1], int(sys.argv[2])
    topic = "vigil/v1/plant-1/gw-kill/status"
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gw-kill", protocol=MQTTProtocolVersion.MQTTv5)
    c.will_set(topic, sys.argv[4].encode(), qos=1, retain=True)
    c.connect(host, port, keepalive=60)
    c.loop_start()
    c.publish(topic, sys.argv[3].encode(), qos=1, retain=True).wait_for_publish(10)
    print("online", flush=True)
    signal.pause()  # stay connected until the test kills this process (SIGKILL: no DISCONNECT, so the will fires)
""")


def test_a_gateway_killed_abruptly_is_seen_going_offline(start_service, broker, tmp_path: Path) -> None:
    svc = start_service()
    script = tmp_path / "gateway.py"
    script.write_text(GATEWAY_SCRIPT)
    online = encode_status("online", "plant-1", "gw-kill", 1.795e9, "0.1.0").decode()
    offline = encode_status("offline", "plant-1", "gw-kill", 1.795e9, "0.1.0").decode()
    proc = subprocess.Popen([sys.executable, str(script), broker.host, str(broker.port), online, offline],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "online"
        event = svc.next_event(GatewayStatusChanged)
        assert (event.gateway, event.state) == ("gw-kill", "online")
        proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes the Last Will
        proc.wait(TIMEOUT)
        event = svc.next_event(GatewayStatusChanged)
        assert (event.gateway, event.state, event.previous) == ("gw-kill", "offline", "online")
        assert svc.service.gateway_states()[("plant-1", "gw-kill")] == "offline"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(TIMEOUT)
        if proc.stdout:
            proc.stdout.close()


def test_command_line_service_answers_and_stops_cleanly(broker, gateway: Gateway, reference) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "detection.cloud", "--broker", f"{broker.host}:{broker.port}"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    stderr = proc.stderr
    assert stderr is not None

    def read() -> None:
        for line in stderr:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        while not any("answering alarms" in line for line in seen):
            try:
                seen.append(lines.get(timeout=TIMEOUT))
            except queue.Empty:
                pytest.fail("the service never said it was subscribed:\n" + "".join(seen))
        gateway.publish(alarm_payload(reference, "sensor_dropout", alarm_id="A-cli"))
        assert parse_confirmation(gateway.next_confirmation()[1]).alarm_id == "A-cli"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        reader.join(TIMEOUT)


def test_bad_broker_address_is_a_clear_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "detection.cloud", "--broker", "localhost"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--broker must be HOST:PORT" in proc.stderr
