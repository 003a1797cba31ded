"""The channels of a pump skid: one fixed order shared by every source, the detector and the store.

Eight channels per pump, as on a real skid (and as in the SKAB test bench). Order matters: a frame's
``values`` array is indexed by :data:`CHANNELS`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    label: str
    unit: str


PUMP_CHANNELS: tuple[Channel, ...] = (
    Channel("vib_de", "Vibration drive end", "mm/s"),
    Channel("vib_nde", "Vibration non-drive end", "mm/s"),
    Channel("current", "Motor current", "A"),
    Channel("pressure", "Discharge pressure", "bar"),
    Channel("motor_temp", "Motor temperature", "degC"),
    Channel("fluid_temp", "Fluid temperature", "degC"),
    Channel("voltage", "Supply voltage", "V"),
    Channel("flow", "Flow", "m3/h"),
)
CHANNELS: tuple[str, ...] = tuple(c.name for c in PUMP_CHANNELS)
N_CHANNELS = len(CHANNELS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}

VIB_DE, VIB_NDE, CURRENT, PRESSURE, MOTOR_TEMP, FLUID_TEMP, VOLTAGE, FLOW = range(N_CHANNELS)

# SKAB column -> our channel (shared/data/skab). Units differ (g, L/min); detection normalises anyway.
SKAB_COLUMNS: dict[str, str] = {
    "Accelerometer1RMS": "vib_de",
    "Accelerometer2RMS": "vib_nde",
    "Current": "current",
    "Pressure": "pressure",
    "Temperature": "motor_temp",
    "Thermocouple": "fluid_temp",
    "Voltage": "voltage",
    "Volume Flow RateRMS": "flow",
}
