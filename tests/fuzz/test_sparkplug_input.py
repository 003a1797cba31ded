"""Hostile Sparkplug B through the real decoder and ingest: random, truncated and mutated protobuf bytes, and
well-formed payloads whose metric values, datatypes, aliases, names, bdSeq and seq numbers are hostile - on
every message type and topic shape, in any order; through the paho callback and a real Mosquitto broker too.

What must hold: no exception escapes; every channel in a frame is GOOD with a finite value inside its range or not
GOOD with NaN; every problem is counted under a known reason and logged escaped; rebirth requests stay
rate-limited whatever a node sends.
"""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from acquisition.channels import CHANNELS
from acquisition.mqtt_ingest import MqttIngestSource, load_ingest_map, parse_ingest_map
from acquisition.mqtt_ingest.sparkplug_ingest import SparkplugIngest
from acquisition.mqtt_ingest.sparkplug_schema import DataType, DecodeError, Payload, decode_payload
from acquisition.quality import Quality
from acquisition.source import Frame
from tests.acquisition.mqtt.helpers import held_on_a_connected_broker
from tests.support.broker import MosquittoBroker, have_mosquitto

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PATH = ROOT / "resources" / "mqtt" / "example.toml"
EXAMPLE = load_ingest_map(EXAMPLE_PATH)
assert EXAMPLE.sparkplug is not None
GROUP = EXAMPLE.sparkplug.group_id
NODE, DEVICE = EXAMPLE.sparkplug.assets[0].edge_node, EXAMPLE.sparkplug.assets[0].device
METRICS = EXAMPLE.sparkplug.assets[0].metrics
ASSET = EXAMPLE.sparkplug.assets[0].asset
UINT64 = st.integers(0, 2**64 - 1)

SPARKPLUG_REASONS = {"sparkplug_bad_protobuf", "sparkplug_before_birth", "sparkplug_old_death", "sparkplug_seq_gap",
                     "sparkplug_historical", "sparkplug_wrong_type", "sparkplug_implausible_value",
                     "sparkplug_unknown_alias", "sparkplug_bad_name", "sparkplug_bad_bdseq"}


def unescaped(text: str) -> str | None:
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" or 0xD800 <= ord(ch) < 0xE000:
            return ch
    return None


# -- payloads -------------------------------------------------------------------------------------------------------
NAME = st.one_of(st.sampled_from([*METRICS, "bdSeq", "Node Control/Rebirth", "Status", ""]), st.text(max_size=20),
                 st.just("Motor/Current\n2026-12-03 CRITICAL forged"))
VALUE = st.one_of(
    st.tuples(st.just("int_value"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("long_value"), UINT64),
    st.tuples(st.just("float_value"), st.floats(width=32)),
    st.tuples(st.just("double_value"), st.floats()),
    st.tuples(st.just("boolean_value"), st.booleans()),
    st.tuples(st.just("string_value"), st.text(max_size=10)),
    st.tuples(st.just("bytes_value"), st.binary(max_size=10)),
    st.none(),
)
DATATYPE = st.one_of(st.sampled_from(list(DataType)).map(int), st.integers(0, 2**32 - 1))
METRIC = st.fixed_dictionaries({"value": VALUE}, optional={
    "name": NAME, "alias": st.one_of(st.integers(0, 20), UINT64), "datatype": DATATYPE, "timestamp": UINT64,
    "is_historical": st.booleans(), "is_transient": st.booleans(), "is_null": st.booleans()})
# the session number a node sends in NBIRTH and in its Will (NDEATH): read by the ingest even before any mapping
HOSTILE_NUMBER = st.one_of(
    st.tuples(st.sampled_from(["double_value", "float_value"]),
              st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.5])),
    st.tuples(st.just("double_value"), st.sampled_from([1e300, -1e300, 5e-324, 2.0**64])),
    st.tuples(st.just("long_value"), st.sampled_from([2**63, 2**64 - 1])))
BD_SEQ = st.fixed_dictionaries({"name": st.just("bdSeq"), "value": st.one_of(HOSTILE_NUMBER, VALUE)},
                               optional={"datatype": DATATYPE})


def encode(seq: int | None, metrics: list[dict], timestamp: int | None = None) -> bytes:
    p = Payload()
    if seq is not None:
        p.seq = seq
    if timestamp is not None:
        p.timestamp = timestamp
    for m in metrics:
        fields = {k: v for k, v in m.items() if k != "value"}
        if m["value"] is not None:
            fields[m["value"][0]] = m["value"][1]
        p.metrics.add(**fields)
    return p.SerializeToString()


SEQ = st.one_of(st.none(), st.integers(0, 255), UINT64)
WELL_FORMED = st.builds(encode, SEQ, st.lists(st.one_of(METRIC, BD_SEQ), max_size=8), st.one_of(st.none(), UINT64))


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    how = draw(st.sampled_from(["as is", "as is", "truncate", "flip", "splice"]))
    if how == "truncate" and raw:
        return raw[:draw(st.integers(0, len(raw) - 1))]
    if how == "flip" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1:]
    if how == "splice":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=12)) + raw[at:]
    return raw


SESSION = st.builds(lambda seq, bd, rest: encode(seq, [bd, *rest]), SEQ, BD_SEQ, st.lists(METRIC, max_size=3))
PAYLOAD = st.one_of(WELL_FORMED.flatmap(mutated), st.binary(max_size=200),
                    st.sampled_from([b"\x12" + b"\x80" * 10, b"\x12\xff\xff\xff\xff\x0f", b"\x0a\x03\xff\xfe\xfd",
                                     b"\x12\x05\x0a\x03\xff\xfe\xfd", b"\x1a" * 1000]))
PUBLISHABLE_TOPIC = st.one_of(
    st.sampled_from([f"spBv1.0/{GROUP}/{k}/{NODE}" for k in ("NBIRTH", "NDATA", "NDEATH", "NCMD", "STATE")]),
    st.sampled_from([f"spBv1.0/{GROUP}/{k}/{NODE}/{d}" for k in ("DBIRTH", "DDATA", "DDEATH", "DCMD")
                     for d in (DEVICE, "Other")]),
    st.sampled_from([f"spBv1.0/{GROUP}/NDATA", f"spBv1.0/{GROUP}/DDATA/{NODE}", f"spBv1.0/{GROUP}/NDATA/{NODE}/x/y",
                     f"spBv1.0/{GROUP}/NBIRTH/Unknown-Node", "spBv1.0/Other/NDATA/" + NODE, f"spBv1.0/{GROUP}"]),
)
TOPIC = st.one_of(PUBLISHABLE_TOPIC, st.text(max_size=30).map(lambda t: f"spBv1.0/{GROUP}/{t}"))
SESSION_TOPIC = st.sampled_from([f"spBv1.0/{GROUP}/NBIRTH/{NODE}", f"spBv1.0/{GROUP}/NDEATH/{NODE}"])
MESSAGE = st.one_of(st.tuples(TOPIC, PAYLOAD), st.tuples(SESSION_TOPIC, SESSION))  # births and deaths with a bdSeq
PUBLISHABLE_MESSAGE = st.one_of(st.tuples(PUBLISHABLE_TOPIC, PAYLOAD), st.tuples(SESSION_TOPIC, SESSION))


# -- the properties ---------------------------------------------------------------------------------------------------
@given(raw=PAYLOAD)
def test_the_decoder_returns_a_payload_or_a_decode_error(raw: bytes) -> None:
    try:
        p = decode_payload(raw)
    except DecodeError:
        return
    for m in p.metrics:  # every field reads back without an exception
        m.WhichOneof("value"), m.name, m.alias, m.datatype, m.is_null, m.is_historical


class Reports(list):
    def __call__(self, reason: str, where: str, detail: str) -> None:
        self.append((reason, where, detail))


def check_frames(frames: list[Frame]) -> None:
    assert EXAMPLE.sparkplug is not None
    by_asset = {a.asset: {m.index: m for m in a.metrics.values()} for a in EXAMPLE.sparkplug.assets}
    for f in frames:
        mapping = by_asset[f.asset]
        assert f.quality is not None  # field sources always set it
        for c in range(len(CHANNELS)):
            q, v = Quality(int(f.quality[c])), float(f.values[c])
            if q == Quality.GOOD:
                lo, hi = mapping[c].bounds
                assert math.isfinite(v) and lo <= v <= hi, (f.asset, CHANNELS[c], v)
            else:
                assert math.isnan(v), (f.asset, CHANNELS[c], v, q)


@given(messages=st.lists(MESSAGE, min_size=1, max_size=10))
def test_the_ingest_holds_only_plausible_good_values(messages: list[tuple[str, bytes]]) -> None:
    held, reports, sent = held_on_a_connected_broker(), Reports(), []
    sp = SparkplugIngest(EXAMPLE, held, reports, publish=lambda t, p: sent.append(t), clock=lambda: 100.0)
    for mono, (topic, raw) in enumerate(messages):
        sp.on_message(topic, raw, float(mono))
    check_frames(held.frames(0.0, float(len(messages))))
    for reason, _, detail in reports:
        assert reason in SPARKPLUG_REASONS, reason
        assert unescaped(detail) is None and len(detail) < 1000, detail
    assert sent == [f"spBv1.0/{GROUP}/NCMD/{NODE}"] * len(sent) and len(sent) <= 1  # one per node per 5 s at most


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@given(messages=st.lists(st.one_of(MESSAGE.map(lambda m: (m[0].encode(), m[1])),
                                   st.tuples(st.binary(max_size=30), PAYLOAD)), min_size=1, max_size=8))
def test_the_paho_callback_counts_everything_and_logs_nothing_raw(messages: list[tuple[bytes, bytes]]) -> None:
    source = MqttIngestSource(EXAMPLE)  # never connected: a rebirth request is dropped by paho (not connected)
    handler, logger = _Records(), logging.getLogger("acquisition")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        for topic, raw in messages:
            msg = mqtt.MQTTMessage(topic=topic)
            msg.payload = raw
            source._on_message(source._client, None, msg)  # the entry point paho calls
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    assert "internal_error" not in source.stats.skipped, source.stats.skipped
    for line in handler.lines:
        assert unescaped(line) is None, line


# -- a real broker --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live_source(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[MqttIngestSource, mqtt.Client, queue.Queue[Frame]]]:
    if not have_mosquitto():
        pytest.skip("mosquitto not installed")
    with MosquittoBroker(tmp_path_factory.mktemp("broker")) as broker:
        data = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
        data["broker"].update(host=broker.host, port=broker.port, client_id="vigil-fuzz-sparkplug", reconnect_max_s=2)
        data["frames"]["period_s"] = 0.05
        source = MqttIngestSource(parse_ingest_map(data))
        frames: queue.Queue[Frame] = queue.Queue()
        stop, errors = threading.Event(), []

        def run() -> None:
            try:
                for batch in source.batches(stop):
                    for f in batch:
                        frames.put(f)
            except BaseException as exc:  # noqa: BLE001 - reported by the fixture
                errors.append(exc)

        thread = threading.Thread(target=run, name="fuzz-sparkplug-frames", daemon=True)
        thread.start()
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vigil-fuzz-edge-node")
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        try:
            assert source.wait_subscribed(10), "the ingest did not subscribe"
            yield source, publisher, frames
        finally:
            publisher.disconnect()
            publisher.loop_stop()
            stop.set()
            thread.join(5)
        assert not thread.is_alive() and not errors, errors


_sentinel = iter(range(1, 10**9))


@settings(max_examples=max(3, settings().max_examples // 4),  # each example is a round trip through a broker
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(messages=st.lists(PUBLISHABLE_MESSAGE, min_size=1, max_size=8))
def test_through_a_real_broker_the_stream_survives_and_recovers(
        live_source: tuple[MqttIngestSource, mqtt.Client, queue.Queue], messages: list[tuple[str, bytes]]) -> None:
    source, publisher, frames = live_source
    errors_before = source.stats.skipped.get("internal_error", 0)
    for topic, raw in messages:
        publisher.publish(topic, raw, qos=1).wait_for_publish(10)
    current = 10.0 + next(_sentinel) % 1000 / 8
    ddata = encode(None, [{"name": "Motor/Current", "datatype": int(DataType.DOUBLE),
                           "value": ("double_value", current)}])
    publisher.publish(f"spBv1.0/{GROUP}/DDATA/{NODE}/{DEVICE}", ddata, qos=1).wait_for_publish(10)
    deadline = time.monotonic() + 10
    while True:
        try:
            f = frames.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no GOOD current {current} after the hostile messages "
                                 f"(skipped: {source.stats.skipped})") from None
        if f.asset == ASSET:
            check_frames([f])
        if f.asset == ASSET and f.quality[2] == Quality.GOOD and f.values[2] == current:
            break
    assert source.stats.skipped.get("internal_error", 0) == errors_before, source.stats.skipped
    assert source.connected
