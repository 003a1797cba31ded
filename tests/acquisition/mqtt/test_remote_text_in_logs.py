"""Text a publisher chose (JSON keys, topic levels, Sparkplug metric names) reaches the log escaped and clipped
(issue 9, defect 9): a key with a newline must not write a forged second line, a lone surrogate must not break a
UTF-8 log file, a 60 kB key must not flood it. Found by tests/fuzz/test_mqtt_json_input.py."""
from __future__ import annotations

import json
import logging

import paho.mqtt.client as mqtt
import pytest

from acquisition.mqtt_ingest import MqttIngestSource, parse_ingest_map
from acquisition.mqtt_ingest.ingest_map import ChannelMapping
from acquisition.mqtt_ingest.json_payload import parse_logger_message
from acquisition.mqtt_ingest.sparkplug_schema import DataType, Payload

FORGED = "\n2026-12-03 09:00:00 CRITICAL app.alarms: all alarms acknowledged by admin"
HOSTILE_NAMES = [FORGED, "a\rb", "\x1b[2J", "x\u2028y", "\ud800", "k" * 60_000, "\x00", "\x85"]
MAP = {"T": ChannelMapping(channel="motor_temp")}


def one_line(text: str) -> bool:
    return all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 and c not in "\u2028\u2029"
               and not 0xD800 <= ord(c) < 0xE000 for c in text) and len(text) < 1000


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
@pytest.mark.parametrize("where", ["values-unknown", "quality-unknown", "values-wrong-type", "quality-bad-word"])
def test_a_hostile_key_is_escaped_in_every_problem(name: str, where: str) -> None:
    mapped = where in ("values-wrong-type", "quality-bad-word")
    mapping = {**MAP, name: ChannelMapping(channel="flow")} if mapped else MAP
    doc = {"values-unknown": {"values": {name: 1}}, "quality-unknown": {"values": {"T": 1}, "quality": {name: "bad"}},
           "values-wrong-type": {"values": {name: "hot"}}, "quality-bad-word": {"quality": {name: "meh"}}}[where]
    msg = parse_logger_message(json.dumps(doc).encode(), mapping, 0.0, 300)
    assert msg.problems, doc
    for _, detail in msg.problems:
        assert one_line(detail), detail


def _records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("acquisition")]


def test_a_hostile_topic_or_asset_level_is_escaped_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    src = MqttIngestSource(parse_ingest_map({"json": [{"topic": "plant/+/data", "asset_level": 1}]}))
    with caplog.at_level(logging.DEBUG):
        for level in ["P-1" + FORGED, "\x1b[2J", "a" * 60_000]:
            msg = mqtt.MQTTMessage(topic=f"plant/{level}/data".encode())
            msg.payload = b'{"values": {"flow": 1}}'
            src._on_message(src._client, None, msg)  # the callback paho's network thread calls
        msg = mqtt.MQTTMessage(topic=b"plant/P-1/data")
        msg.payload = json.dumps({"values": {"flow" + FORGED: 1}}).encode()
        src._on_message(src._client, None, msg)
    lines = _records(caplog)
    assert len(lines) == 4 and src.stats.skipped == {"bad_asset_name": 3, "unknown_channel": 1}
    for line in lines:
        assert one_line(line), line


def test_a_sparkplug_metric_name_that_is_not_utf8_is_reported_escaped(caplog: pytest.LogCaptureFixture) -> None:
    """protobuf (proto2) hands an invalid-UTF-8 string field back as bytes: it is no name we map, and it is said so."""
    src = MqttIngestSource(parse_ingest_map({"sparkplug": {"group_id": "G", "request_rebirth": False, "assets": [
        {"edge_node": "N", "asset": "P-1", "metrics": {"Amps": "current"}}]}}))
    p = Payload(seq=0)
    p.metrics.add(name="Amps", datatype=DataType.DOUBLE, double_value=12.0)
    raw = p.SerializeToString().replace(b"Amps", b"\xffmp\n")  # same length: a corrupted name
    with caplog.at_level(logging.DEBUG):
        msg = mqtt.MQTTMessage(topic=b"spBv1.0/G/NBIRTH/N")
        msg.payload = raw
        src._on_message(src._client, None, msg)
    assert src.stats.skipped == {"sparkplug_bad_name": 1}
    for line in _records(caplog):
        assert one_line(line), line
