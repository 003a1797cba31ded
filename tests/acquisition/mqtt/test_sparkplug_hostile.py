"""Hostile Sparkplug B fields read without an MQTT broker (the broker tests cover the protocol end to end).
Each case here was found by tests/fuzz/test_sparkplug_input.py."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from acquisition.channels import INDEX
from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest import load_ingest_map
from acquisition.mqtt_ingest.sparkplug_ingest import SparkplugIngest
from acquisition.mqtt_ingest.sparkplug_schema import DataType, Payload
from acquisition.quality import Quality
from tests.acquisition.mqtt.helpers import held_on_a_connected_broker

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "mqtt" / "example.toml"
NODE_TOPIC = "spBv1.0/Plant1/{}/Gateway-7"
DEVICE_TOPIC = "spBv1.0/Plant1/{}/Gateway-7/Pump104"


class Reports(list):
    def __call__(self, reason: str, where: str, detail: str) -> None:
        self.append((reason, detail))


def ingest() -> tuple[SparkplugIngest, HeldValues, Reports]:
    held, reports = held_on_a_connected_broker(), Reports()
    return SparkplugIngest(load_ingest_map(EXAMPLE), held, reports, publish=lambda t, p: None,
                           clock=lambda: 0.0), held, reports


def payload(seq: int, *metrics: tuple[str, int, str, object]) -> bytes:
    p = Payload(seq=seq)
    for name, datatype, field, value in metrics:
        p.metrics.add(name=name, datatype=datatype, **{field: value})
    return p.SerializeToString()


def current_quality(held: HeldValues) -> Quality:
    f = next(f for f in held.frames(0.0, 1.0) if f.asset == "P-104")
    assert f.quality is not None  # field sources always set it
    return Quality(int(f.quality[INDEX["current"]]))


HOSTILE_BD_SEQ = [(DataType.DOUBLE, "double_value", math.nan), (DataType.DOUBLE, "double_value", math.inf),
                  (DataType.FLOAT, "float_value", -math.inf), (DataType.DOUBLE, "double_value", 2.5),
                  (DataType.DOUBLE, "double_value", -1.0), (DataType.STRING, "string_value", "one")]


@pytest.mark.parametrize(("datatype", "field", "value"), HOSTILE_BD_SEQ, ids=[str(h[2]) for h in HOSTILE_BD_SEQ])
@pytest.mark.parametrize("kind", ["NBIRTH", "NDEATH"])
def test_a_bd_seq_that_is_no_session_number_is_counted_not_raised(kind: str, datatype: int, field: str,
                                                                    value: object) -> None:
    """NaN or inf as bdSeq raised ValueError/OverflowError (int(nan)) on the paho thread."""
    sp, held, reports = ingest()
    sp.on_message(NODE_TOPIC.format("NBIRTH"), payload(0, ("bdSeq", DataType.INT64, "long_value", 3)), 0.0)
    sp.on_message(DEVICE_TOPIC.format("DBIRTH"),
                  payload(1, ("Motor/Current", DataType.DOUBLE, "double_value", 12.0)), 0.0)
    assert current_quality(held) == Quality.GOOD
    seq = 2 if kind == "NBIRTH" else 0
    sp.on_message(NODE_TOPIC.format(kind), payload(seq, ("bdSeq", datatype, field, value)), 0.0)
    assert ("sparkplug_bad_bdseq" in [r for r, _ in reports]), reports
    if kind == "NDEATH":  # a Will whose session cannot be told: the node is taken for dead (STALE), not kept GOOD
        assert current_quality(held) == Quality.STALE
