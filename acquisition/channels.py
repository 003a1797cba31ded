"""The channels of a pump skid: one fixed order shared by every source, the detector and the store.

Eight channels per pump, as on a real skid (and as in the SKAB test bench). Order matters: a frame's
``values`` array is indexed by :data:`CHANNELS`.

Every channel has a plausible range (:data:`PLAUSIBLE_RANGE`, by its kind): the values a working instrument on
any pump skid can report. Field sources (MQTT ingest, Modbus) use it when their map names no range of its own,
so a value no pump can have (a current of 1,000,000 A, a temperature of 1e308) arrives as BAD quality instead
of being taken as physics. The ranges are deliberately generous - they catch broken data, not process upsets;
tighter limits belong in the map (``min``/``max``, ``valid``). A little room below zero is left where a sensor's
zero offset can read slightly negative on a stopped pump.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# An asset (a pump skid) is named in every frame, alarm, log line and screen: plain, short, no spaces
ASSET_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ASSET_NAME_RULE = "1-64 of A-Z a-z 0-9 _ . -"
_ASSET_NAME = re.compile(ASSET_NAME_PATTERN)


def valid_asset_name(name: object) -> bool:
    return isinstance(name, str) and bool(_ASSET_NAME.match(name))


class ChannelKind(Enum):
    VIBRATION = "vibration"
    CURRENT = "current"
    PRESSURE = "pressure"
    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"
    FLOW = "flow"


# (low, high) in the channel's unit; see docs/mqtt-ingest.md and docs/modbus.md
PLAUSIBLE_RANGE: dict[ChannelKind, tuple[float, float]] = {
    ChannelKind.VIBRATION: (-1.0, 500.0),            # mm/s RMS; ISO 10816 calls > 45 mm/s severe on any machine
    ChannelKind.CURRENT: (-10.0, 5000.0),            # A; a 2.5 MW low-voltage motor draws about 4,000 A
    ChannelKind.PRESSURE: (-1.1, 1000.0),            # bar gauge; -1.013 is a perfect vacuum
    ChannelKind.TEMPERATURE: (-50.0, 250.0),         # degC; motor insulation class H is 180
    ChannelKind.VOLTAGE: (-10.0, 15_000.0),          # V; medium-voltage motors run at up to 13.8 kV
    ChannelKind.FLOW: (-10_000.0, 100_000.0),        # m3/h; negative is reverse flow through a stopped pump
}


# The resolution of each kind as decimals of its unit: the finest step a field instrument of that kind reports, so
# that a value written with these decimals (the USB export, app/export) loses nothing the plant measured. From the
# shipped Modbus maps (resources/modbus) and common transmitters: a 4-20 mA loop read in uA is 0.0016 A over
# 0..25 A and 0.005 m3/h over 0..80 m3/h (3 decimals); pressure registers are mbar (3); temperature registers are
# 0.1 degC and RTD transmitters resolve 0.01 (2); the voltage register is 0.01 V (2); vibration velocity
# transmitters resolve 0.001 mm/s at best (3). More digits than these are float noise, not measurement.
DECIMALS: dict[ChannelKind, int] = {
    ChannelKind.VIBRATION: 3,
    ChannelKind.CURRENT: 3,
    ChannelKind.PRESSURE: 3,
    ChannelKind.TEMPERATURE: 2,
    ChannelKind.VOLTAGE: 2,
    ChannelKind.FLOW: 3,
}


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    label: str
    unit: str
    kind: ChannelKind

    @property
    def plausible(self) -> tuple[float, float]:
        return PLAUSIBLE_RANGE[self.kind]

    @property
    def decimals(self) -> int:
        """Decimals of the unit this channel's instruments resolve (:data:`DECIMALS`)."""
        return DECIMALS[self.kind]


PUMP_CHANNELS: tuple[Channel, ...] = (
    Channel("vib_de", "Vibration drive end", "mm/s", ChannelKind.VIBRATION),
    Channel("vib_nde", "Vibration non-drive end", "mm/s", ChannelKind.VIBRATION),
    Channel("current", "Motor current", "A", ChannelKind.CURRENT),
    Channel("pressure", "Discharge pressure", "bar", ChannelKind.PRESSURE),
    Channel("motor_temp", "Motor temperature", "degC", ChannelKind.TEMPERATURE),
    Channel("fluid_temp", "Fluid temperature", "degC", ChannelKind.TEMPERATURE),
    Channel("voltage", "Supply voltage", "V", ChannelKind.VOLTAGE),
    Channel("flow", "Flow", "m3/h", ChannelKind.FLOW),
)
CHANNELS: tuple[str, ...] = tuple(c.name for c in PUMP_CHANNELS)
N_CHANNELS = len(CHANNELS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}

VIB_DE, VIB_NDE, CURRENT, PRESSURE, MOTOR_TEMP, FLUID_TEMP, VOLTAGE, FLOW = range(N_CHANNELS)


def plausible_range(channel: str) -> tuple[float, float]:
    """The default plausible (low, high) of a channel by name (KeyError for a name that is not a channel)."""
    return PUMP_CHANNELS[INDEX[channel]].plausible


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
