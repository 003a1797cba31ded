"""source.kind = "mqtt" in Vigil's settings builds the MQTT ingest source from the map it names."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquisition.mqtt_ingest import IngestMapError, MqttIngestSource
from app.config import load_settings
from app.sources import build_source


def test_the_default_map_is_the_shipped_example() -> None:
    settings = load_settings(environ={"VIGIL_SOURCE__KIND": "mqtt"})
    assert settings.source.mqtt.map == "resources/mqtt/example.toml"
    src = build_source(settings, duration_s=3.0)
    assert isinstance(src, MqttIngestSource)
    assert src.assets == ("P-101", "P-102", "P-103", "P-104") and src.duration_s == 3.0


def test_a_missing_map_or_an_injected_fault_is_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(environ={"VIGIL_SOURCE__KIND": "mqtt",
                                      "VIGIL_SOURCE__MQTT__MAP": str(tmp_path / "none.toml")})
    with pytest.raises(IngestMapError, match="MQTT ingest map not found: .*none.toml"):
        build_source(settings)
    from acquisition.simulator import parse_injection

    with pytest.raises(ValueError, match="--inject works only with the simulator"):
        build_source(load_settings(environ={"VIGIL_SOURCE__KIND": "mqtt"}), [parse_injection("P-101:cavitation@1m")])
