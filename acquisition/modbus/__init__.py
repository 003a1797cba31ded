"""Modbus TCP/RTU field source: a register map (TOML), a codec shared with the simulator's server, and a
poller that turns the plant's registers into frames with per-channel quality. See docs/modbus.md."""
from acquisition.modbus.codec import NE43_HIGH_MA, NE43_LOW_MA, Encoding, RegType, Table
from acquisition.modbus.poller import ModbusPoller
from acquisition.modbus.register_map import (
    DeviceDef,
    RegisterDef,
    RegisterMap,
    RegisterMapError,
    RtuLink,
    TcpLink,
    load_register_map,
    parse_register_map,
)
from acquisition.modbus.source import ModbusSource

__all__ = [
    "NE43_HIGH_MA",
    "NE43_LOW_MA",
    "DeviceDef",
    "Encoding",
    "ModbusPoller",
    "ModbusSource",
    "RegType",
    "RegisterDef",
    "RegisterMap",
    "RegisterMapError",
    "RtuLink",
    "Table",
    "TcpLink",
    "load_register_map",
    "parse_register_map",
]
