"""Implausible values are bad quality, not physics (issue 9, defect 1): a channel whose map names no range still
has one - its kind's plausible range (acquisition/channels.py) - and anything outside it, NaN or infinite arrives
as BAD in the frame, for data-logger JSON and Sparkplug B alike."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from acquisition.channels import CHANNELS, INDEX, PUMP_CHANNELS, plausible_range
from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest import IngestMapError, load_ingest_map, parse_ingest_map
from acquisition.mqtt_ingest.json_ingest import JsonIngest
from acquisition.mqtt_ingest.sparkplug_ingest import SparkplugIngest
from acquisition.mqtt_ingest.sparkplug_schema import DataType, Payload
from acquisition.quality import Quality
from acquisition.source import Frame
from tests.acquisition.mqtt.helpers import held_on_a_connected_broker

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "mqtt" / "example.toml"
NOW = 1_795_000_000.0
P102 = "plant/pumps/P-102/telemetry"  # the example map's logger with Vigil's names and no min/max at all


class Reports(list):
    def __call__(self, reason: str, where: str, detail: str) -> None:
        self.append((reason, where, detail))

    def reasons(self) -> list[str]:
        return [r for r, _, _ in self]


def frame_of(held: HeldValues, asset: str) -> Frame:
    return next(f for f in held.frames(NOW, 0.0) if f.asset == asset)


def json_ingest() -> tuple[JsonIngest, HeldValues, Reports]:
    held, reports = held_on_a_connected_broker(), Reports()
    return JsonIngest(load_ingest_map(EXAMPLE), held, reports), held, reports


def test_a_current_of_a_million_amps_is_bad_not_a_reading() -> None:
    """The attack of defect 1: one absurd current on a channel without a configured max."""
    ingest, held, reports = json_ingest()
    ingest.on_message(P102, b'{"values": {"current": 1000000, "flow": 80}}', NOW, 0.0)
    f = frame_of(held, "P-102")
    assert f.quality is not None  # field sources always set it
    assert f.quality[INDEX["current"]] == Quality.BAD and math.isnan(f.values[INDEX["current"]])
    assert f.quality[INDEX["flow"]] == Quality.GOOD and f.values[INDEX["flow"]] == 80.0
    assert reports.reasons() == ["implausible_value"] and "1e+06" in reports[0][2] and "current" in reports[0][2]


def _edges(channel: str) -> list[tuple[str, Quality]]:
    lo, hi = plausible_range(channel)
    return [(repr(lo), Quality.GOOD), (repr(hi), Quality.GOOD), (repr((lo + hi) / 2), Quality.GOOD),
            (repr(hi + abs(hi) * 1e-6 + 1e-6), Quality.BAD), (repr(lo - abs(lo) * 1e-6 - 1e-6), Quality.BAD),
            ("1e308", Quality.BAD), ("-1e308", Quality.BAD), ("1e999", Quality.BAD),
            ("NaN", Quality.BAD), ("Infinity", Quality.BAD), ("-Infinity", Quality.BAD), ("1" + "0" * 400, Quality.BAD)]


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_without_a_range_has_its_kinds_plausible_range(channel: str) -> None:
    ingest, held, _ = json_ingest()
    for literal, expected in _edges(channel):
        ingest.on_message(P102, f'{{"values": {{"{channel}": {literal}}}}}'.encode(), NOW, 0.0)
        f = frame_of(held, "P-102")
        assert f.quality is not None  # field sources always set it
        assert f.quality[INDEX[channel]] == expected, (channel, literal)
        assert math.isfinite(f.values[INDEX[channel]]) == (expected == Quality.GOOD), (channel, literal)


def test_a_configured_range_replaces_the_default_end_by_end() -> None:
    m = parse_ingest_map({"json": [{"topic": "t", "asset": "A", "channels": {
        "I": {"channel": "current", "max": 400}, "F": {"channel": "flow", "min": 0}, "P": "pressure"}}]})
    ch = m.subscriptions[0].channels
    assert ch["I"].bounds == (plausible_range("current")[0], 400.0)
    assert ch["F"].bounds == (0.0, plausible_range("flow")[1])
    assert ch["P"].bounds == plausible_range("pressure")


def test_a_one_sided_range_that_crosses_the_default_is_refused_at_load() -> None:
    with pytest.raises(IngestMapError) as err:
        parse_ingest_map({"json": [{"topic": "t", "asset": "A", "channels": {
            "I": {"channel": "current", "min": 6000}}}]})
    assert "min (6000" in str(err.value) and "5000" in str(err.value) and "set max" in str(err.value)


def _sparkplug_payload(seq: int, *metrics: tuple[str, int, str, float]) -> bytes:
    p = Payload(timestamp=1, seq=seq)
    for name, datatype, field, value in metrics:
        p.metrics.add(name=name, datatype=datatype, **{field: value})
    return p.SerializeToString()


@pytest.mark.parametrize(("value", "expected"), [
    (12.5, Quality.GOOD), (1e6, Quality.BAD), (-1e6, Quality.BAD), (math.nan, Quality.BAD), (math.inf, Quality.BAD),
    (plausible_range("current")[1], Quality.GOOD), (plausible_range("current")[1] * 1.001, Quality.BAD),
])
def test_sparkplug_metrics_have_the_same_plausible_ranges(value: float, expected: Quality) -> None:
    held, reports = held_on_a_connected_broker(), Reports()
    sp = SparkplugIngest(load_ingest_map(EXAMPLE), held, reports, publish=lambda t, p: None, clock=lambda: 0.0)
    sp.on_message("spBv1.0/Plant1/NBIRTH/Gateway-7",
                  _sparkplug_payload(0, ("bdSeq", DataType.INT64, "long_value", 0)), 0.0)
    sp.on_message("spBv1.0/Plant1/DBIRTH/Gateway-7/Pump104", _sparkplug_payload(
        1, ("Motor/Current", DataType.DOUBLE, "double_value", value), ("Flow", DataType.FLOAT, "float_value", 50.0)),
        0.0)
    f = frame_of(held, "P-104")
    assert f.quality is not None  # field sources always set it
    assert f.quality[INDEX["current"]] == expected and math.isfinite(f.values[INDEX["current"]]) == (expected == 0)
    assert f.quality[INDEX["flow"]] == Quality.GOOD
    assert reports.reasons() == ([] if expected == Quality.GOOD else ["sparkplug_implausible_value"])


def test_the_documented_table_matches_the_code() -> None:
    doc = (EXAMPLE.parents[2] / "docs" / "mqtt-ingest.md").read_text(encoding="utf-8")
    for c in PUMP_CHANNELS:
        lo, hi = c.plausible
        assert f"| `{c.name}` | {lo:g} .. {hi:g} {c.unit} |" in doc, c.name
