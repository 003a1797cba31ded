"""Building the configured signal source (the only place that knows every source kind)."""
from __future__ import annotations

from collections.abc import Sequence

from acquisition.csv_replay import CsvReplaySource
from acquisition.simulator import FaultSpec, PumpStation, StationConfig
from acquisition.source import Source
from app.config import Settings


def build_source(settings: Settings, faults: Sequence[FaultSpec] = (), duration_s: float | None = None) -> Source:
    src = settings.source
    if src.kind == "csv":
        if faults:
            raise ValueError("--inject works only with the simulator (source.kind = 'simulator')")
        return CsvReplaySource(src.csv.path, fmt=src.csv.format, asset=src.csv.asset,
                               timestamp_column=src.csv.timestamp_column, speed=src.speed)
    if src.kind == "mqtt":
        if faults:
            raise ValueError("--inject works only with the simulator (source.kind = 'simulator')")
        from acquisition.mqtt_ingest import MqttIngestSource, load_ingest_map, resolve_map_path

        return MqttIngestSource(load_ingest_map(resolve_map_path(src.mqtt.map)), duration_s=duration_s)
    if src.kind == "modbus":
        if faults:
            raise ValueError("--inject works only with the simulator (source.kind = 'simulator'); inject into the "
                             "Modbus plant with python -m acquisition.simulator --modbus-tcp ... --inject ...")
        from acquisition.modbus import ModbusSource, load_register_map

        return ModbusSource(load_register_map(src.modbus.map), duration_s=duration_s)
    sim = src.simulator
    config = StationConfig(n_pumps=sim.n_pumps, sample_period_s=sim.sample_period_s, seed=sim.seed,
                           start_stopped=sim.start_stopped, schedule=sim.regime_changes)
    return PumpStation(config, faults=tuple(faults), speed=src.speed, duration_s=duration_s)
