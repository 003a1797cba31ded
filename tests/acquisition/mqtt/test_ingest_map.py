"""The ingest map: the shipped example loads, and every mistake is named with what is allowed."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquisition.config_paths import resolve_map_path
from acquisition.mqtt_ingest import IngestMapError, MqttIngestSource, load_ingest_map, parse_ingest_map

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "resources" / "mqtt" / "example.toml"


def test_the_shipped_example_loads_and_lists_its_assets() -> None:
    m = load_ingest_map(EXAMPLE)
    assert [s.topic for s in m.subscriptions] == ["plant/loggers/pump-101/data", "plant/pumps/+/telemetry"]
    flow = m.subscriptions[0].channels["Q_l_min"]
    assert (flow.channel, flow.convert(1000.0)) == ("flow", pytest.approx(60.0))
    assert m.sparkplug is not None and m.sparkplug.assets[0].metrics["Motor/Current"].channel == "current"
    assert MqttIngestSource(m).assets == ("P-101", "P-102", "P-103", "P-104")
    assert m.stale_after_s(None) == float("inf")  # Sparkplug: only DEATH makes stale, by default
    assert m.stale_after_s(m.subscriptions[1]) == 10.0


def test_a_relative_map_path_is_found_from_the_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_map_path("resources/mqtt/example.toml") == EXAMPLE


BAD = [
    ({"json": [{"topic": "a/+/b", "asset_level": 1, "channels": {"Q": "flw"}}]},
     ["json subscription 'a/+/b' (json[0]) channels.Q.channel", "'flw' is not a Vigil channel",
      "allowed: vib_de, vib_nde, current"]),
    ({"json": [{"topic": "a/+/b", "asset_level": 2}]},
     ["asset_level = 2 must point at a '+' level of 'a/+/b'"]),
    ({"json": [{"topic": "a/b", "asset": "P-1", "asset_level": 1}]}, ["give exactly one of asset"]),
    ({"json": [{"topic": "a/#/b", "asset": "P-1"}]}, ["'#' must be a whole level and the last one"]),
    ({"json": [{"topic": "a/b+", "asset": "P-1"}]}, ["'+' must be a whole level"]),
    ({"json": [{"topic": "a/b", "asset": "pump one"}]}, ["asset 'pump one' is not allowed", "A-Z a-z 0-9 _ . -"]),
    ({"json": [{"topic": "a", "asset": "P", "channels": {"x": "flow", "y": "flow"}}]},
     ["'x' and 'y' both feed channel 'flow'"]),
    ({"json": [{"topic": "a", "asset": "P", "channels": {"x": {"channel": "flow", "scale": 0}}}]},
     ["channels.x", "scale must not be 0"]),
    ({"json": [{"topic": "spBv1.0/G/NDATA/+", "asset": "P"}]}, ["Sparkplug B namespace; use the [sparkplug]"]),
    ({"json": [{"topic": "a", "asset": "P"}], "frames": {"period_s": 0}},
     ["frames.period_s = 0", "greater than or equal to 0.05"]),
    ({"json": [{"topic": "a", "asset": "P"}], "broker": {"qos": 3, "tls": True}},
     ["broker.qos = 3", "broker.tls: unknown key"]),
    ({"sparkplug": {"group_id": "G", "assets": [
        {"edge_node": "N1", "device": "D1", "asset": "P-1", "metrics": {"Amps": {"channel": "current", "min": 9,
                                                                               "max": 1}}}]}},
     ["sparkplug N1/D1 (sparkplug.assets[0]) metric 'Amps'", "min (9.0) must be below max (1.0)"]),
    ({"sparkplug": {"group_id": "G", "assets": [{"edge_node": "N1", "asset": "P-1", "metrics": {"": "flow"}}]}},
     ["sparkplug N1 (sparkplug.assets[0])", "an empty metric name"]),  # found by tests/fuzz: silently never used
    ({"json": [{"topic": "a", "asset": "P", "channels": {"": "flow"}}]}, ["an empty logger name"]),
    ({"sparkplug": {"group_id": "G", "assets": [{"edge_node": "N/1", "asset": "P-1", "metrics": {"a": "flow"}}]}},
     ["edge_node 'N/1' is not allowed", "without / + #"]),
    ({"sparkplug": {"group_id": "G", "assets": [
        {"edge_node": "N1", "asset": "P-1", "metrics": {"a": "flow"}},
        {"edge_node": "N1", "asset": "P-2", "metrics": {"b": "flow"}}]}},
     ["N1 is mapped twice"]),
    ({"sparkplug": {"group_id": "G", "assets": [{"edge_node": "N1", "asset": "P-1", "metrics": {}}]}},
     ["metrics is empty"]),
    ({}, ["nothing to subscribe to"]),
]


@pytest.mark.parametrize(("data", "expected"), BAD, ids=[e[0][:40] for _, e in BAD])
def test_a_bad_map_names_the_entry_the_problem_and_what_is_allowed(data: dict, expected: list[str]) -> None:
    with pytest.raises(IngestMapError) as err:
        parse_ingest_map(data, "map.toml")
    for text in expected:
        assert text in str(err.value), str(err.value)


def test_file_problems_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IngestMapError, match="not found"):
        load_ingest_map(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[broker\nport = 1")
    with pytest.raises(IngestMapError, match="not valid TOML"):
        load_ingest_map(tmp_path / "bad.toml")
    base = {"json": [{"topic": "a", "asset": "P"}]}
    monkeypatch.delenv("VIGIL_TEST_NO_SUCH_PW", raising=False)
    with pytest.raises(IngestMapError, match="VIGIL_TEST_NO_SUCH_PW.*not set"):
        MqttIngestSource(parse_ingest_map({**base,
                                           "broker": {"username": "u", "password_env": "VIGIL_TEST_NO_SUCH_PW"}}))
    with pytest.raises(IngestMapError, match="broker.tls_ca.*cannot load"):
        MqttIngestSource(parse_ingest_map({**base, "broker": {"tls_ca": str(tmp_path / "missing-ca.crt")}}))


@pytest.mark.parametrize("content", [b"\x80", b"[broker]\nhost = \"\xff\"\n",
                                     "[broker]\nhost = 'é'\n".encode("latin-1")])
def test_a_map_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    """Found by tests/fuzz/test_mqtt_json_input.py: a UnicodeDecodeError escaped the loader."""
    (tmp_path / "plant.toml").write_bytes(content)
    with pytest.raises(IngestMapError, match=r"plant.toml is not UTF-8 text \(byte \d+: "):
        load_ingest_map(tmp_path / "plant.toml")


def test_a_map_nested_too_deeply_is_a_clear_error(tmp_path: Path) -> None:
    """Found by tests/fuzz/test_mqtt_json_input.py: tomllib raised RecursionError on a = [[[[...."""
    (tmp_path / "plant.toml").write_text("a = " + "[" * 5000)
    with pytest.raises(IngestMapError, match="plant.toml is not valid TOML: nested too deeply"):
        load_ingest_map(tmp_path / "plant.toml")


@pytest.mark.parametrize("name", ["\x00", "N\n  json: forged", "\x1b[2J"])
def test_names_in_a_map_error_are_shown_escaped(name: str) -> None:
    """Found by tests/fuzz/test_mqtt_json_input.py: an edge node or topic with control characters was printed
    raw into the error, breaking its one-problem-per-line layout."""
    with pytest.raises(IngestMapError) as err:
        parse_ingest_map({"json": [{"topic": f"a/{name}", "asset": "P", "stale_after": 0},
                                   {"topic": "b", "asset": name}],
                          "sparkplug": {"group_id": "G", "assets": [{"edge_node": name, "device": name, "asset": "P-1",
                                                                     "metrics": {}}]}})
    lines = str(err.value).split("\n")
    assert len(lines) >= 4, lines  # the heading and one line per problem (json[0], json[1], the node)
    for line in lines[1:]:
        assert line.startswith(("  json subscription '", "  sparkplug '")), line
        assert all(ord(c) >= 0x20 for c in line), line
