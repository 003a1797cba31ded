"""One data-logger message read on its own (the broker tests cover the same rules end to end)."""
from __future__ import annotations

import math

import pytest

from acquisition.channels import INDEX
from acquisition.mqtt_ingest.ingest_map import ChannelMapping
from acquisition.mqtt_ingest.json_payload import PayloadRejected, parse_logger_message, parse_timestamp
from acquisition.quality import Quality

NOW = 1_795_000_000.0
MAP = {"T": ChannelMapping(channel="motor_temp"), "Q": ChannelMapping(channel="flow", scale=0.06, min=0.0)}


@pytest.mark.parametrize(("raw", "expected"), [
    (None, NOW), (NOW - 1.5, NOW - 1.5), (int(NOW), NOW),
    ("2026-11-18T08:26:40Z", 1_794_990_400.0), ("2026-11-18T08:26:40", 1_794_990_400.0),  # naive = UTC
    ("2026-11-18T10:26:40+02:00", 1_794_990_400.0),
])
def test_timestamps_in_seconds_or_iso(raw: object, expected: float) -> None:
    assert parse_timestamp(raw, 1_794_990_400.0 if isinstance(raw, str) else NOW, 300) == expected


@pytest.mark.parametrize(("raw", "reason", "hint"), [
    (NOW * 1000, "ts_out_of_window", "milliseconds"), (NOW - 3600, "ts_out_of_window", "within 300 s"),
    ("noon", "bad_timestamp", "ISO-8601"), (True, "bad_timestamp", "bool"), ([1], "bad_timestamp", "list"),
    (math.nan, "bad_timestamp", "finite"),
])
def test_bad_timestamps_say_what_is_allowed(raw: object, reason: str, hint: str) -> None:
    with pytest.raises(PayloadRejected) as err:
        parse_timestamp(raw, NOW, 300)
    assert err.value.reason == reason and hint in err.value.detail


def test_partial_update_scaling_range_and_flags() -> None:
    msg = parse_logger_message(b'{"values": {"Q": 1000}, "quality": {"T": "BAD"}}', MAP, NOW, 300)
    by_channel = {r.channel: r for r in msg.readings}
    assert by_channel[INDEX["flow"]].value == pytest.approx(60.0) and by_channel[INDEX["flow"]].quality == Quality.GOOD
    assert by_channel[INDEX["motor_temp"]].quality == Quality.BAD and math.isnan(by_channel[INDEX["motor_temp"]].value)
    assert msg.problems == [] and msg.ts == NOW
    below = parse_logger_message(b'{"values": {"Q": -5}}', MAP, NOW, 300)  # below min = 0 after scaling
    assert below.readings[0].quality == Quality.BAD and math.isnan(below.readings[0].value)


def test_one_bad_value_does_not_spoil_the_others() -> None:
    msg = parse_logger_message(b'{"values": {"T": "hot", "Q": 10, "X": 1}}', MAP, NOW, 300)
    assert [p[0] for p in msg.problems] == ["wrong_type", "unknown_channel"]
    assert "allowed: a number or null" in msg.problems[0][1] and "known: Q, T" in msg.problems[1][1]
    assert {r.channel: r.quality for r in msg.readings} == {INDEX["motor_temp"]: Quality.BAD,
                                                            INDEX["flow"]: Quality.GOOD}


@pytest.mark.parametrize("raw", [b'{"ts": 1' + b"0" * 400 + b', "values": {"T": 1}}',
                                 b'{"ts": -' + b"9" * 4000 + b', "values": {"T": 1}}'], ids=["1e400", "-1e4000"])
def test_a_timestamp_too_large_for_a_number_is_rejected_not_raised(raw: bytes) -> None:
    """Found by tests/fuzz/test_mqtt_json_input.py: an integer ts beyond a float raised OverflowError."""
    with pytest.raises(PayloadRejected) as err:
        parse_logger_message(raw, MAP, NOW, 300)
    assert err.value.reason == "bad_timestamp" and "too large" in err.value.detail and len(err.value.detail) < 200


@pytest.mark.parametrize("raw", [b"[" * 60_000, b'{"values": {"T": 1' + b"0" * 5000 + b"}}", b"\xff{}", b"nul"])
def test_pathological_json_is_rejected_not_raised(raw: bytes) -> None:
    with pytest.raises(PayloadRejected) as err:
        parse_logger_message(raw, MAP, NOW, 300)
    assert err.value.reason in ("malformed_json", "not_utf8")
