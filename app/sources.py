"""Building the configured signal source (the only place that knows every source kind), and the one clock the
engine stamps by: the source's plant clock."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from acquisition.csv_replay import CsvReplaySource
from acquisition.simulator import FaultSpec, PumpStation, StationConfig, wall_start_ts
from acquisition.simulator.scenario import Scenario, demo_faults, demo_prerun_s
from acquisition.source import Source
from app.config import Settings
from detection.pipeline import PipelineParams

Clock = Callable[[], float]  # epoch seconds


def plant_clock(source: Source) -> Clock:
    """The clock of the plant ``source`` describes: every time the engine stamps (alarm changes, operator
    actions, audit rows, cloud verdicts) and shelving expiry go by it, so an alarm's trail reads on one clock.
    A source that simulates its plant says so with a ``plant_time()`` method (:meth:`PumpStation.plant_time`:
    faster than real time at a speed setting, as fast as its data flat out); every other source is the real
    plant or a recording of it: wall time."""
    own = getattr(source, "plant_time", None)
    return own if callable(own) else time.time


def build_source(settings: Settings, faults: Sequence[FaultSpec] = (), duration_s: float | None = None,
                 start_ts: float | None = None) -> Source:
    """``start_ts``: the simulator's plant time at its start (a test or bench asking for a fixed, reproducible
    start); None starts it at the current wall time snapped to its sample grid, so at speed 1 the plant clock
    and the wall clock agree."""
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
    live_ts = wall_start_ts(sim.sample_period_s) if start_ts is None else start_ts
    prerun_s = 0.0
    if scenario(settings, faults) is Scenario.DEMO:
        # The pre-run is the plant's recent past: the run starts that long before now, so the live part of it
        # (from the end of the pre-run) is on the wall clock at speed 1, and --duration counts from there.
        prerun_s = demo_prerun_s(commissioning_s(settings), sim.sample_period_s, sim.start_stopped)
        live_ts -= prerun_s
        duration_s = None if duration_s is None else duration_s + prerun_s
    config = StationConfig(n_pumps=sim.n_pumps, sample_period_s=sim.sample_period_s, seed=sim.seed,
                           start_ts=live_ts, start_stopped=sim.start_stopped, schedule=sim.regime_changes)
    assert config.assets is not None
    if prerun_s:  # injected faults too (scenario = "demo" set explicitly), timed like the demo's from the pre-run's end
        faults = [replace(f, onset_s=f.onset_s + prerun_s) for f in faults] + demo_faults(config.assets, prerun_s)
    return PumpStation(config, faults=tuple(faults), speed=src.speed, duration_s=duration_s, prerun_s=prerun_s)


def scenario(settings: Settings, faults: Sequence[FaultSpec] = ()) -> Scenario:
    """The scenario a run shows: ``source.simulator.scenario`` as set, or unset the simulator's default, the demo,
    unless faults are injected (then the operator chose what happens). Only ever the demo on the simulator (the
    settings refuse it with any other source)."""
    if settings.source.kind != "simulator":
        return Scenario.NONE
    chosen = settings.source.simulator.scenario
    if chosen is None:
        return Scenario.NONE if faults else Scenario.DEMO
    return Scenario(chosen)


def commissioning_s(settings: Settings) -> float:
    """Plant time detection needs to commission a pump that runs steadily from the start: settling, the learning
    window, and the off-thread fit's adoption (detection.pipeline)."""
    period = settings.source.simulator.sample_period_s
    p = PipelineParams.from_settings(settings.detection, period)
    return p.regime.settle.at(period) + p.baseline.at(period) + p.adopt_after.at(period)
