"""Built-in pump-station simulator: a deterministic, physically plausible Source for demos, tests and evaluation.

Typical use::

    station = PumpStation(StationConfig(n_pumps=2, seed=7), faults=["P-101:cavitation@2h"], speed=600)
    for frames in station.batches(stop_event): ...
    station.truth("P-101", ts)  # ground truth, never in the frames
"""
from acquisition.simulator.faults import (
    DEFAULT_CHANNEL,
    FaultKind,
    FaultSpec,
    parse_duration,
    parse_injection,
)
from acquisition.simulator.schedule import SETPOINTS, Regime
from acquisition.simulator.station import (
    DEFAULT_START_TS,
    PumpStation,
    RegimeEntry,
    SimulationResult,
    StationConfig,
    Truth,
    wall_start_ts,
)

__all__ = [
    "DEFAULT_CHANNEL",
    "DEFAULT_START_TS",
    "SETPOINTS",
    "FaultKind",
    "FaultSpec",
    "PumpStation",
    "Regime",
    "RegimeEntry",
    "SimulationResult",
    "StationConfig",
    "Truth",
    "parse_duration",
    "wall_start_ts",
    "parse_injection",
]
