"""MQTT ingest: data-logger JSON topics and Sparkplug B edge nodes as a Vigil source (docs/mqtt-ingest.md)."""
from acquisition.config_paths import resolve_map_path
from acquisition.mqtt_ingest.ingest_map import IngestMap, IngestMapError, load_ingest_map, parse_ingest_map
from acquisition.mqtt_ingest.mqtt_source import MqttIngestSource

__all__ = ["IngestMap", "IngestMapError", "MqttIngestSource", "load_ingest_map", "parse_ingest_map", "resolve_map_path"]
