"""Hostile data-logger JSON through the real MQTT ingest: the decoder, the ingest that holds values and makes
frames, the paho callback, a real Mosquitto broker, and the ingest-map loader.

What must hold for any input: no exception escapes a decoder; every channel in a frame is either GOOD with a
finite value inside its range (the map's min/max, else the channel's plausible range) or not GOOD with NaN;
every problem is counted under a known reason, and nothing a publisher sent reaches the log unescaped (a key
with a newline must not write a second log line, issue 9 defect 9).
"""
from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from acquisition.channels import CHANNELS
from acquisition.mqtt_ingest import IngestMap, IngestMapError, MqttIngestSource, load_ingest_map, parse_ingest_map
from acquisition.mqtt_ingest.ingest_map import ChannelMapping
from acquisition.mqtt_ingest.json_ingest import JsonIngest
from acquisition.mqtt_ingest.json_payload import PayloadRejected, parse_logger_message
from acquisition.quality import Quality
from acquisition.source import Frame
from common.quoting import quoted
from tests.acquisition.mqtt.helpers import held_on_a_connected_broker
from tests.support.broker import MosquittoBroker, have_mosquitto

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PATH = ROOT / "resources" / "mqtt" / "example.toml"
EXAMPLE = load_ingest_map(EXAMPLE_PATH)
NOW = 1_795_000_000.0
SKEW = EXAMPLE.frames.max_clock_skew_s
NAMED, BY_LEVEL = EXAMPLE.subscriptions  # P-101 with its own names and limits; P-102/P-103 with Vigil's names
MAPPINGS = [NAMED.mapping(), BY_LEVEL.mapping()]

# every reason the JSON ingest may count (docs/mqtt-ingest.md); anything else is a new, undocumented path
REJECT_REASONS = {"not_utf8", "malformed_json", "not_an_object", "wrong_type", "no_values", "bad_timestamp",
                  "ts_out_of_window"}
PROBLEM_REASONS = {"unknown_key", "unknown_channel", "bad_quality", "wrong_type", "implausible_value"}
INGEST_REASONS = REJECT_REASONS | PROBLEM_REASONS | {"bad_asset_name", "unknown_asset", "too_many_assets",
                                                     "out_of_order"}
SOURCE_REASONS = INGEST_REASONS | {"payload_too_large", "bad_topic"}


def unescaped(text: str) -> str | None:
    """The first character a log line must not carry raw (control characters, line separators, lone
    surrogates that a UTF-8 log file cannot take), or None."""
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" or 0xD800 <= ord(ch) < 0xE000:
            return ch
    return None


# -- JSON text, built by hand so that NaN, Infinity, 4,000-digit integers and raw bytes can be in it -------------
FORGED = "\n2026-12-03 09:00:00 CRITICAL app.alarms: all alarms acknowledged by admin"
NUMBER_TEXT = st.one_of(
    st.floats().map(json.dumps),                                             # NaN, Infinity, 1e308, -0.0, 5e-324
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=300, max_value=4400).map(lambda n: "1" + "0" * n),  # beyond a float; beyond 4300 digits
    st.sampled_from(["1e308", "1e309", "-1e400", "-0.0", "-0", "0e-400", "NaN", "-Infinity", "1E+2", "01", "1.",
                     ".5", "+1", "0x10", "1_000"]),
)
KEY = st.one_of(
    st.sampled_from(sorted({*MAPPINGS[0], *MAPPINGS[1]})),
    st.text(max_size=24),
    st.text(alphabet=st.characters(max_codepoint=0x9F, categories=["Cc"]), min_size=1, max_size=8),
    st.sampled_from([FORGED, "current" + FORGED, "\u2028", "\x1b[2J", "ts", "values", "quality", ""]),
)
KEY_TEXT = st.one_of(KEY.map(json.dumps), st.sampled_from(['"\\ud800"', '"\\udfff x"', '"a\\u0000b"']))
STRING_TEXT = st.one_of(st.text(max_size=40).map(json.dumps), KEY_TEXT)
SCALAR_TEXT = st.one_of(NUMBER_TEXT, STRING_TEXT, st.sampled_from(["true", "false", "null"]))
VALUE_TEXT = st.recursive(
    SCALAR_TEXT,
    lambda inner: st.one_of(st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
                            st.lists(st.tuples(KEY_TEXT, inner), max_size=4).map(
                                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")),
    max_leaves=8)


def _deep(depth: int, where: str) -> str:
    if where == "top":
        return "[" * depth + "]" * depth
    if where == "objects":
        return '{"a": ' * depth + "1" + "}" * depth
    return '{"values": {"current": ' + "[" * depth + "]" * depth + "}}"  # deep inside a channel's value


DEEP_TEXT = st.builds(_deep, st.integers(1, 150_000), st.sampled_from(["top", "objects", "value"]))
TS_TEXT = st.one_of(
    st.floats(NOW - 2 * SKEW, NOW + 2 * SKEW).map(repr), NUMBER_TEXT, STRING_TEXT, VALUE_TEXT,
    st.datetimes().map(lambda d: json.dumps(d.isoformat())),
    st.tuples(st.datetimes(), st.sampled_from(["Z", "+14:00", "-14:00", "+00:00", "-23:59"])).map(
        lambda dz: json.dumps(dz[0].isoformat() + dz[1])),
    st.sampled_from(['"2026-11-18T08:26:40Z"', '"9999-12-31T23:59:59-14:00"', '"0001-01-01T00:00:00+14:00"',
                     '"+275760-09-13"', '""', '"  "']),
)
QUALITY_WORD = st.one_of(st.sampled_from(['"good"', '"BAD"', '"Stale"', '"meh"', "null", "1", "[]"]), STRING_TEXT)


def _object(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"


MESSAGE_TEXT = st.builds(
    lambda ts, values, quality, extra: _object(ts + values + quality + extra),
    st.lists(TS_TEXT.map(lambda t: ('"ts"', t)), max_size=1),
    st.one_of(st.lists(st.tuples(KEY_TEXT, st.one_of(NUMBER_TEXT, VALUE_TEXT)), max_size=10).map(
        lambda kv: [('"values"', _object(kv))]), st.lists(VALUE_TEXT.map(lambda v: ('"values"', v)), max_size=2)),
    st.one_of(st.just([]), st.lists(st.tuples(KEY_TEXT, QUALITY_WORD), max_size=6).map(
        lambda kv: [('"quality"', _object(kv))]), VALUE_TEXT.map(lambda v: [('"quality"', v)])),
    st.lists(st.tuples(KEY_TEXT, VALUE_TEXT), max_size=2),
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> bytes:
    """Truncate, splice random bytes into, or re-encode a message, as a broken link or logger would."""
    raw = text.encode("utf-8", "surrogatepass")
    how = draw(st.sampled_from(["as is", "as is", "truncate", "splice", "latin-1", "utf-16"]))
    if how == "truncate":
        return raw[:draw(st.integers(0, len(raw)))]
    if how == "splice":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    return raw


PAYLOAD = st.one_of(
    MESSAGE_TEXT.flatmap(mutated),
    VALUE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    DEEP_TEXT.map(str.encode),
    st.binary(max_size=256),
    st.sampled_from([json.dumps({"values": {f"k{i}": i for i in range(5000)}}).encode(),  # huge, every key unknown
                     json.dumps({"values": {"current": 1.0}, "x": "y" * 60_000}).encode(),
                     json.dumps({"values": {"current": "z" * 60_000}}).encode()]),
)


# -- the properties ---------------------------------------------------------------------------------------------------
def check_reading_range(channel: int, value: float, quality: Quality, mapping: ChannelMapping | None) -> None:
    if quality == Quality.GOOD:
        assert mapping is not None, f"{CHANNELS[channel]} is GOOD but not mapped"
        lo, hi = mapping.bounds
        assert math.isfinite(value) and lo <= value <= hi, (CHANNELS[channel], value, (lo, hi))
    else:
        assert math.isnan(value), (CHANNELS[channel], value, quality)


@given(payload=PAYLOAD, which=st.sampled_from([0, 1]))
def test_the_decoder_rejects_or_reads_never_raises(payload: bytes, which: int) -> None:
    mapping = MAPPINGS[which]
    by_index = {m.index: m for m in mapping.values()}
    try:
        msg = parse_logger_message(payload, mapping, NOW, SKEW)
    except PayloadRejected as exc:
        assert exc.reason in REJECT_REASONS, exc.reason
        assert unescaped(exc.detail) is None and len(exc.detail) < 1000, exc.detail
        return
    assert math.isfinite(msg.ts) and abs(msg.ts - NOW) <= SKEW
    for r in msg.readings:
        check_reading_range(r.channel, r.value, r.quality, by_index.get(r.channel))
    for reason, detail in msg.problems:
        assert reason in PROBLEM_REASONS, reason
        assert unescaped(detail) is None and len(detail) < 1000, detail


class Reports(list):
    def __call__(self, reason: str, where: str, detail: str) -> None:
        self.append((reason, where, detail))


TOPIC_LEVEL = st.one_of(st.sampled_from(["P-102", "P-103", "P-999", "", "+", "#"]),
                        st.text(max_size=70).filter(lambda s: "/" not in s))
TOPIC = st.one_of(
    st.sampled_from([NAMED.topic, "plant/pumps/P-102/telemetry", "plant/pumps/P-103/telemetry"]),
    TOPIC_LEVEL.map(lambda level: f"plant/pumps/{level}/telemetry"),
    st.text(max_size=40),
)


def check_frames(frames: list[Frame], ingest_map: IngestMap) -> None:
    by_asset = {ingest_map.subscriptions[0].asset: ingest_map.subscriptions[0].mapping()}
    by_asset.update({a.asset: a.metrics for a in (ingest_map.sparkplug.assets if ingest_map.sparkplug else ())})
    by_level = ingest_map.subscriptions[1].mapping()
    for f in frames:
        mapping = {m.index: m for m in by_asset.get(f.asset, by_level).values()}
        assert f.quality is not None  # field sources always set it
        for c in range(len(CHANNELS)):
            check_reading_range(c, float(f.values[c]), Quality(int(f.quality[c])), mapping.get(c))


@given(messages=st.lists(st.tuples(TOPIC, PAYLOAD, st.floats(-1e6, 1e6)), min_size=1, max_size=6))
def test_the_ingest_holds_only_plausible_good_values(messages: list[tuple[str, bytes, float]]) -> None:
    held, reports = held_on_a_connected_broker(), Reports()
    ingest = JsonIngest(EXAMPLE, held, reports)
    for mono, (topic, payload, jitter) in enumerate(messages):
        ingest.on_message(topic, payload, NOW + jitter * 1e-3, float(mono))
    check_frames(held.frames(NOW, float(len(messages))), EXAMPLE)
    assert len(held.assets()) <= EXAMPLE.frames.max_assets
    for reason, _, detail in reports:
        assert reason in INGEST_REASONS, reason
        assert unescaped(detail) is None and len(detail) < 1000, detail


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def log_lines(name: str = "acquisition") -> Iterator[list[str]]:
    handler, logger = _Records(), logging.getLogger(name)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


RAW_TOPIC = st.one_of(TOPIC.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=40),
                      TOPIC_LEVEL.map(lambda lv: b"plant/pumps/" + lv.encode("utf-8", "surrogatepass")
                                      + b"\xff/telemetry"))


@given(messages=st.lists(st.tuples(RAW_TOPIC, st.one_of(PAYLOAD, st.just(b"{" * 70_000))), min_size=1, max_size=6))
def test_the_paho_callback_counts_everything_and_logs_nothing_raw(messages: list[tuple[bytes, bytes]]) -> None:
    """Through MqttIngestSource's own on_message (what paho's network thread calls): nothing is an
    internal_error, and every line logged is one line with every remote character escaped."""
    source = MqttIngestSource(EXAMPLE)
    with log_lines() as lines:
        for topic, payload in messages:
            msg = mqtt.MQTTMessage(topic=topic)
            msg.payload = payload
            source._on_message(source._client, None, msg)  # the entry point paho calls
    assert "internal_error" not in source.stats.skipped, source.stats.skipped
    assert set(source.stats.skipped) <= SOURCE_REASONS, source.stats.skipped
    for line in lines:
        assert unescaped(line) is None, line


# -- a real broker, a real paho network thread -------------------------------------------------------------------
class _Publisher:
    def __init__(self, broker: MosquittoBroker) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vigil-fuzz-publisher")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def live_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MqttIngestSource, _Publisher, queue.Queue]]:
    if not have_mosquitto():
        pytest.skip("mosquitto not installed")
    with MosquittoBroker(tmp_path_factory.mktemp("broker")) as broker:
        data = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
        data["broker"].update(host=broker.host, port=broker.port, client_id="vigil-fuzz-ingest",
                              reconnect_max_s=2)
        data["frames"]["period_s"] = 0.05
        source = MqttIngestSource(parse_ingest_map(data))
        frames: queue.Queue[Frame] = queue.Queue()
        stop, errors = threading.Event(), []

        def run() -> None:
            try:
                for batch in source.batches(stop):
                    for f in batch:
                        frames.put(f)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        thread = threading.Thread(target=run, name="fuzz-frames", daemon=True)
        thread.start()
        publisher = _Publisher(broker)
        try:
            assert source.wait_subscribed(10), "the ingest did not subscribe"
            yield source, publisher, frames
        finally:
            publisher.close()
            stop.set()
            thread.join(5)
        assert not thread.is_alive() and not errors, errors


_sentinel = iter(range(1, 10**9))


@settings(max_examples=max(3, settings().max_examples // 4),  # each example is a round trip through a broker
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(messages=st.lists(st.tuples(st.sampled_from(["plant/pumps/P-102/telemetry", NAMED.topic,
                                                    "plant/pumps/P-103/telemetry"]), PAYLOAD), min_size=1, max_size=8))
def test_through_a_real_broker_the_stream_survives_and_recovers(
        live_source: tuple[MqttIngestSource, _Publisher, queue.Queue], messages: list[tuple[str, bytes]]) -> None:
    source, publisher, frames = live_source
    errors_before = source.stats.skipped.get("internal_error", 0)
    for topic, payload in messages:
        publisher.publish(topic, payload)
    current = 10.0 + next(_sentinel) % 1000 / 8  # a fresh, exact value each example
    publisher.publish("plant/pumps/P-102/telemetry", json.dumps({"values": {"current": current}}).encode())
    deadline = time.monotonic() + 10
    while True:
        try:
            f = frames.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no GOOD current {current} after the hostile messages "
                                 f"(skipped: {source.stats.skipped})") from None
        check_frames([f], source.map)
        if f.asset == "P-102" and f.quality[2] == Quality.GOOD and f.values[2] == current:
            break
    assert source.stats.skipped.get("internal_error", 0) == errors_before, source.stats.skipped
    assert source.connected


# -- the ingest map loader --------------------------------------------------------------------------------------------
HOSTILE_VALUE = st.one_of(
    st.integers(), st.integers(min_value=2**63, max_value=2**80), st.floats(), st.booleans(), st.text(max_size=30),
    st.sampled_from(["", "x" * 5000, "\n[broker]\nhost = 'evil'", "current\nCRITICAL forged", "spBv1.0/G", "#",
                     "plant/#/x", "+", "\x00"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.datetimes(), st.dates(), st.times(),
)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


EXAMPLE_DATA = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
EXAMPLE_PATHS = _paths(EXAMPLE_DATA)


def _mutate(data: dict, path: tuple, value: object, how: str) -> dict:
    doc = json.loads(json.dumps(data))  # a deep copy of plain TOML data
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if how == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent[f"{path[-1]}_typo"] = value
    else:
        parent[path[-1]] = value
    return doc


def check_map_error(text: str, origin: str) -> None:
    lines = text.split("\n")
    assert lines[0].startswith(origin), lines[0]
    assert len(lines) > 1 or "not" in lines[0], text
    for line in lines:
        assert unescaped(line) is None and len(line) < 600, line


@given(path=st.sampled_from(EXAMPLE_PATHS), value=HOSTILE_VALUE, how=st.sampled_from(["set", "set", "delete", "add"]))
def test_a_bad_ingest_map_is_refused_with_a_clear_message(path: tuple, value: object, how: str) -> None:
    doc = _mutate(EXAMPLE_DATA, path, value, how)
    try:
        m = parse_ingest_map(doc, "plant.toml")
    except IngestMapError as exc:
        check_map_error(str(exc), "plant.toml")
        named = [p for p in path if isinstance(p, str)]
        key = f"{path[-1]}_typo" if how == "add" and isinstance(path[-1], str) else named[-1]
        shown = [value, *value] if isinstance(value, dict) else [value]  # a table is named by one of its keys
        shows_value = how == "set" and any(quoted(v) in str(exc) for v in shown)  # e.g. a topic by its new value
        assert key in str(exc) or shows_value or "nothing to subscribe" in str(exc), (path, how, str(exc))
        return
    for sub in m.subscriptions:  # what loads is sane: every range is a range
        for mapping in sub.mapping().values():
            lo, hi = mapping.bounds
            assert math.isfinite(lo) and math.isfinite(hi) and lo < hi and mapping.scale != 0


@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                         st.sampled_from([b"\xef\xbb\xbf[broker]\n", b"[broker]\nhost = \"\xff\"\n", b"\x00" * 10,
                                          b"a = " + b"[" * 5000, b"[[json]]\n" * 3])))
def test_a_map_file_of_any_bytes_is_a_clear_error(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("map") / "plant.toml"
    path.write_bytes(content)
    with pytest.raises(IngestMapError) as err:
        load_ingest_map(path)
    check_map_error(str(err.value), "MQTT ingest map")


def test_a_directory_or_unreadable_map_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestMapError, match="cannot read"):
        load_ingest_map(tmp_path)


