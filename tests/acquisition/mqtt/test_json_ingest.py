"""Data-logger JSON over a real Mosquitto broker, published with the real mosquitto_pub."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from acquisition.channels import CHANNELS
from acquisition.quality import Quality
from tests.acquisition.mqtt.helpers import FrameTap, good, publish, q, quality_is, source_for, v

LOGGER_MAP = {"json": [{"topic": "site/logger7/pump", "asset": "P-101", "channels": {
    "VIB_DE": "vib_de",
    "Q_l_min": {"channel": "flow", "scale": 0.06},
    "P_kPa": {"channel": "pressure", "scale": 0.01, "offset": 0.0},
    "I_A": {"channel": "current", "min": 0, "max": 400},
}}]}


def test_logger_values_reach_the_frames_scaled_and_partial_updates_merge(broker) -> None:
    src = source_for(broker, **LOGGER_MAP)
    assert src.assets == ("P-101",)
    with FrameTap(src) as tap:
        tap.wait_connected()
        publish(broker, "site/logger7/pump", json.dumps({"ts": _iso_now(), "values": {"VIB_DE": 2.5}}))
        publish(broker, "site/logger7/pump", '{"values": {"Q_l_min": 1000, "P_kPa": 450}}')  # no ts: gateway clock
        f = tap.wait_for("P-101", good(vib_de=2.5, flow=60.0, pressure=4.5), "the three channels GOOD")
        # channels the map does not give this asset are NOT_CONFIGURED; current has no value yet: NO_VALUE
        for c in ("vib_nde", "motor_temp", "fluid_temp", "voltage"):
            assert q(f, c) == Quality.NOT_CONFIGURED and np.isnan(v(f, c))
        assert q(f, "current") == Quality.NO_VALUE and np.isnan(v(f, "current"))
        publish(broker, "site/logger7/pump", '{"values": {"I_A": 12.5}}')
        tap.wait_for("P-101", good(vib_de=2.5, flow=60.0, pressure=4.5, current=12.5), "current added, rest held")
        publish(broker, "site/logger7/pump", '{"values": {"I_A": 999}}')  # above max = 400
        tap.wait_for("P-101", quality_is(Quality.BAD, "current"), "current BAD (out of range)")
    assert src.stats.frames > 0 and src.stats.skipped == {"implausible_value": 1}


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


def test_asset_from_a_topic_level_with_our_channel_names_and_an_allow_list(broker) -> None:
    src = source_for(broker, json=[{"topic": "plant/pumps/+/telemetry", "asset_level": 2,
                                    "assets": ["P-201", "P-202"]}])
    with FrameTap(src) as tap:
        tap.wait_connected()
        eight = dict(zip(CHANNELS, range(1, 9), strict=True))
        publish(broker, "plant/pumps/P-202/telemetry", json.dumps({"values": eight}))
        f = tap.wait_for("P-202", good(**eight), "all eight channels GOOD")
        assert f.values.dtype == np.float64 and f.quality is not None and f.quality.dtype == np.uint8
        publish(broker, "plant/pumps/P-999/telemetry", '{"values": {"flow": 1}}')  # not in the allow list
        publish(broker, "plant/pumps/P-201/telemetry", '{"values": {"flow": 7}}')
        tap.wait_for("P-201", good(flow=7.0), "P-201 flow")
    assert src.stats.skipped == {"unknown_asset": 1}
    assert set(src.assets) == {"P-201", "P-202"}


def test_an_asset_revealed_by_the_topic_appears_as_it_goes(broker) -> None:
    src = source_for(broker, json=[{"topic": "loggers/+/data", "asset_level": 1}], frames={"max_assets": 2})
    assert src.assets == ()
    with FrameTap(src) as tap:
        tap.wait_connected()
        publish(broker, "loggers/K-7/data", '{"values": {"motor_temp": 61.5}}')
        f = tap.wait_for("K-7", good(motor_temp=61.5), "the new asset's value")
        assert q(f, "flow") == Quality.NO_VALUE  # mapped (our names) but not sent yet
        publish(broker, "loggers/K-8/data", '{"values": {"motor_temp": 1}}')
        publish(broker, "loggers/bad name!/data", '{"values": {"motor_temp": 1}}')
        publish(broker, "loggers/K-9/data", '{"values": {"motor_temp": 1}}')  # the third: over max_assets
        publish(broker, "loggers/K-8/data", '{"values": {"motor_temp": 2}}')
        tap.wait_for("K-8", good(motor_temp=2.0), "K-8 updated after the refused ones")
    assert src.assets == ("K-7", "K-8")
    assert src.stats.skipped == {"bad_asset_name": 1, "too_many_assets": 1}


def test_quality_flags_from_the_logger_and_values_going_stale(broker) -> None:
    src = source_for(broker, json=[{"topic": "l/P-1", "asset": "P-1", "stale_after": 5}])  # 5 x 0.1 s
    with FrameTap(src) as tap:
        tap.wait_connected()
        publish(broker, "l/P-1", '{"values": {"vib_de": 1.0, "flow": 5.0, "voltage": null},'
                                 ' "quality": {"flow": "bad"}}')
        f = tap.wait_for("P-1", good(vib_de=1.0), "vib_de GOOD")
        assert q(f, "flow") == Quality.BAD and np.isnan(v(f, "flow"))     # flagged bad by the logger
        assert q(f, "voltage") == Quality.BAD and np.isnan(v(f, "voltage"))  # null = no value
        publish(broker, "l/P-1", '{"quality": {"vib_de": "stale"}}')  # a flag alone marks the channel
        tap.wait_for("P-1", quality_is(Quality.STALE, "vib_de"), "vib_de flagged stale")
        publish(broker, "l/P-1", '{"values": {"vib_de": 3.0, "flow": 4.0}}')
        tap.wait_for("P-1", good(vib_de=3.0, flow=4.0), "fresh values GOOD again")
        # nothing more is published: within stale_after periods both go STALE, values NaN
        tap.wait_for("P-1", quality_is(Quality.STALE, "vib_de", "flow"), "vib_de and flow STALE", timeout=5)
    assert src.stats.skipped == {}


def test_malformed_input_is_counted_by_reason_and_the_stream_goes_on(broker, tmp_path: Path) -> None:
    src = source_for(broker, **LOGGER_MAP)
    topic = "site/logger7/pump"
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"values": {"VIB_DE": 1.0}, "pad": "x" * 70_000}))  # > 64 KiB
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00{garbage")
    with FrameTap(src) as tap:
        tap.wait_connected()
        for message in [
            "{not json",                                           # malformed_json
            "[1, 2, 3]",                                           # not_an_object
            '"just a string"',                                     # not_an_object
            '{"values": [1, 2]}',                                  # wrong_type (values not an object)
            '{"values": {}}',                                      # no_values
            '{"ts": "yesterday", "values": {"VIB_DE": 1}}',       # bad_timestamp
            '{"ts": true, "values": {"VIB_DE": 1}}',              # bad_timestamp
            '{"ts": 1795000000000, "values": {"VIB_DE": 1}}',     # ts_out_of_window (milliseconds)
            '{"values": {"VIB_DE": "fast"}}',                      # wrong_type (the value is BAD)
            '{"values": {"VIB_DE": {"nested": 1}}}',               # wrong_type
            '{"values": {"Nope": 1, "VIB_DE": 0.5}}',              # unknown_channel (VIB_DE still used)
            '{"values": {"VIB_DE": 0.5}, "quality": {"VIB_DE": "meh"}}',  # bad_quality (BAD)
            '{"values": {"VIB_DE": 0.5}, "extra": 1}',             # unknown_key (rest used)
            '{"values": {"VIB_DE": 1e999}}',                       # JSON Infinity-as-overflow: implausible_value (BAD)
            "",                                                    # malformed_json (empty)
        ]:
            publish(broker, topic, message)
        publish(broker, topic, file=huge)
        publish(broker, topic, file=binary)
        publish(broker, topic, '{"values": {"VIB_DE": 4.25}}')
        tap.wait_for("P-101", good(vib_de=4.25), "the good message after all the bad ones")
    assert src.stats.skipped == {
        "malformed_json": 2, "not_an_object": 2, "wrong_type": 3, "no_values": 1, "bad_timestamp": 2,
        "ts_out_of_window": 1, "unknown_channel": 1, "bad_quality": 1, "unknown_key": 1,
        "payload_too_large": 1, "not_utf8": 1, "implausible_value": 1,
    }
