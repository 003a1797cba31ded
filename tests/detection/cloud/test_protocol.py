"""The wire contract (docs/uplink.md) as the parsers enforce it: good messages round-trip, bad ones are rejected
with a message that names what was wrong."""
from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from acquisition.channels import CHANNELS
from app.labels import FAILURE_MODES as APP_FAILURE_MODES
from detection.cloud import protocol
from detection.cloud.protocol import (
    Confirmation,
    ProtocolError,
    encode_alarm,
    encode_status,
    new_message_id,
    parse_alarm,
    parse_confirmation,
    parse_status,
)
from detection.failure_modes import FailureMode

TOPIC = "vigil/v1/plant-1/gw-1/alarm"
Mutation = Callable[[dict], None]  # edits a good alarm document in place


def good_alarm() -> dict:
    ts = np.arange(300.0) + 1.795e9
    values = np.tile(np.arange(8.0), (300, 1))
    values[5, 3] = np.nan
    return json.loads(encode_alarm(site="plant-1", gateway="gw-1", seq=3, alarm_id="A-1", asset="P-101",
                                   raised_ts=float(ts[-1]), peak_score=1.9, priority="high",
                                   top_channels=[("vib_de", 0.61)], ts=ts, values=values))


def dump(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def test_the_app_and_the_contract_take_their_failure_modes_from_the_one_enum() -> None:
    assert [k for k, _ in APP_FAILURE_MODES] == list(FailureMode)
    assert [t for _, t in APP_FAILURE_MODES] == [m.text for m in FailureMode]
    for mode in FailureMode:  # every mode the HMI offers is one the cloud may answer with, as its plain word
        conf = Confirmation(new_message_id(), "A-1", "gw-1", True, mode.value, "high", 0.9, "m-1", 1.8e9)
        assert parse_confirmation(conf.encode()).failure_mode == mode
    with pytest.raises(ProtocolError, match="failure_mode must be one of cavitation, bearing_wear"):
        Confirmation(new_message_id(), "A-1", "gw-1", True, "rust", "high", 0.9, "m-1", 1.8e9)


def test_alarm_round_trips_with_nulls_as_nan() -> None:
    msg = parse_alarm(dump(good_alarm()), TOPIC)
    assert (msg.site, msg.gateway, msg.alarm_id, msg.seq) == ("plant-1", "gw-1", "A-1", 3)
    assert msg.window.values.shape == (300, 8)
    assert math.isnan(msg.window.values[5, 3]) and msg.window.values[6, 3] == 3.0
    assert msg.top_channels == (("vib_de", 0.61),)


def test_channels_in_another_order_are_reordered() -> None:
    doc = good_alarm()
    w = doc["body"]["window"]
    w["channels"] = list(reversed(CHANNELS))
    w["values"] = [list(reversed(r)) for r in w["values"]]
    msg = parse_alarm(dump(doc), TOPIC)
    assert msg.window.values[6].tolist() == list(range(8))


def _set(path: str, value: object) -> Mutation:
    def mutate(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[p]
        del node[last]
    return mutate


@pytest.mark.parametrize(("mutate", "expected"), [
    (_delete("id"), "missing field(s) id"),
    (_set("extra", 1), "unknown field(s) extra"),
    (_set("body.colour", "red"), "body: unknown field(s) colour"),
    (_set("id", "not-hex"), "id 'not-hex' does not match"),
    (_set("stream", "label"), "stream must be \"alarm\""),
    (_set("seq", "3"), "seq must be an integer"),
    (_set("seq", True), "seq must be an integer"),
    (_set("ts", "yesterday"), "ts must be a finite number"),
    (_set("gateway", "gw-2"), "differ from the topic"),
    (_set("body", []), "body must be an object"),
    (_set("body.priority", "urgent"), "body.priority must be one of low, medium, high"),
    (_set("body.peak_score", None), "body.peak_score must be a finite number"),
    (_set("body.top_channels", [["spin", 0.5]]), "body.top_channels[0][0] must be one of"),
    (_set("body.window.channels", ["vib_de"] * 8), "must name each of"),
    (_set("body.window.ts", [1.0]), "at least 2"),
    (_set("body.window.values.4", [1, 2, 3]), "body.window.values[4] has 3 values, expected 8"),
    (_set("body.window.values.7", [1, 2, 3, "4", 5, 6, 7, 8]), "body.window.values[7][3] must be a number or null"),
    (_set("body.window.score", [0.1]), "body.window.score has 1 entries"),
    (_set("body.window.ts.10", 0.0), "strictly increasing"),
])
def test_malformed_alarms_are_rejected_naming_the_field(mutate: Mutation, expected: str) -> None:
    doc = good_alarm()
    mutate(doc)
    with pytest.raises(ProtocolError, match=None) as exc:
        parse_alarm(dump(doc), TOPIC)
    assert expected in str(exc.value)


@pytest.mark.parametrize(("payload", "expected"), [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"id": NaN}', "numbers must be finite"),
    (b" " * (256 * 1024 + 1), "over the 262144-byte limit"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
])
def test_unparseable_payloads_are_rejected(payload: bytes, expected: str) -> None:
    with pytest.raises(ProtocolError) as exc:
        parse_alarm(payload, TOPIC)
    assert expected in str(exc.value)


def test_a_confirmation_is_not_an_alarm() -> None:
    conf = Confirmation(new_message_id(), "A-1", "gw-1", True, "cavitation", "high", 0.9, "ae-1", 1.8e9)
    with pytest.raises(ProtocolError, match="this is a confirmation"):
        parse_alarm(conf.encode(), TOPIC)


def test_confirmation_round_trip_and_rules() -> None:
    conf = Confirmation(new_message_id(), "A-1", "gw-1", True, "seal_leak", "medium", 0.75, "ae-2026.11-s0", 1.8e9)
    assert parse_confirmation(conf.encode()) == conf
    rejected = Confirmation(new_message_id(), "A-2", "gw-1", False, None, None, 0.8, "ae-2026.11-s0", 1.8e9)
    assert parse_confirmation(rejected.encode()) == rejected
    doc = json.loads(conf.encode())
    for key, value, expected in [
        ("failure_mode", "gremlins", "failure_mode must be one of"),
        ("priority", "urgent", "priority must be one of"),
        ("confidence", 1.5, "confidence must be a number in 0..1"),
        ("confirmed", "yes", "confirmed must be true or false"),
    ]:
        with pytest.raises(ProtocolError, match=expected):
            parse_confirmation(dump({**doc, key: value}))
    with pytest.raises(ProtocolError, match="must be null when confirmed is false"):
        parse_confirmation(dump({**doc, "confirmed": False}))
    with pytest.raises(ProtocolError, match="unknown field"):
        parse_confirmation(dump({**doc, "note": "x"}))
    with pytest.raises(ProtocolError, match="16384-byte limit"):
        parse_confirmation(dump({**doc, "alarm_id": "A" * 17_000}))


def test_status_parse_checks_the_topic() -> None:
    payload = encode_status("offline", "plant-1", "gw-1", 1.795e9, "0.1.0")
    assert parse_status(payload, "vigil/v1/plant-1/gw-1/status").state == "offline"
    with pytest.raises(ProtocolError, match="differ from the topic"):
        parse_status(payload, "vigil/v1/plant-1/gw-9/status")
    with pytest.raises(ProtocolError, match="state must be one of online, offline"):
        parse_status(dump({**json.loads(payload), "state": "sleepy"}))


def test_topic_names() -> None:
    assert protocol.topic("plant-1", "gw-1", "confirmation") == "vigil/v1/plant-1/gw-1/confirmation"
    assert protocol.parse_topic("vigil/v1/a/b/alarm") == ("a", "b", "alarm")
    with pytest.raises(ProtocolError):
        protocol.topic("plant 1", "gw-1", "alarm")
    with pytest.raises(ProtocolError):
        protocol.parse_topic("vigil/v2/a/b/alarm")


def test_every_fault_the_simulator_injects_is_a_failure_mode_a_technician_can_label() -> None:
    """The simulator's FaultKind is the injectable subset of the failure modes (same words), not a second list."""
    from acquisition.simulator import FaultKind

    assert {k.value for k in FaultKind} <= {m.value for m in FailureMode}
