"""The register map of a Modbus plant: the one place its channel configuration lives (a TOML file).

Every problem is found at load time and reported together, each naming the device, the register and what is
allowed, e.g. ``device 'plc-1' register 'P-101/flow' (holding 40): type 'float64' is not one of int16, ...``.
The file format is documented in docs/modbus.md; resources/modbus/simulator-tcp.toml is a complete example.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from acquisition.channels import ASSET_NAME_RULE, CHANNELS, plausible_range, valid_asset_name
from acquisition.config_paths import resolve_map_path
from acquisition.modbus.codec import REGISTER_TYPES, Encoding, RegType, Table
from common.quoting import plain, quoted

_Toml = dict[str, Any]  # a table as the TOML parser returns it: values unchecked

MAX_READ_REGISTERS = 125  # Modbus limit for function codes 3 and 4
MAX_READ_BITS = 2000  # ... and for 1 and 2
_TOP_KEYS = {"description", "frame_period_s", "stale_after_polls", "device"}
_DEVICE_KEYS = {
    "name", "description", "transport", "host", "port", "serial_port", "baudrate", "parity", "stopbits", "bytesize",
    "device_id", "poll_interval_s", "timeout_s", "asset", "word_order", "byte_order", "max_gap",
    "max_registers_per_read", "max_bits_per_read", "reconnect_min_s", "reconnect_max_s", "register",
}
_TCP_ONLY, _RTU_ONLY = {"host", "port"}, {"serial_port", "baudrate", "parity", "stopbits", "bytesize"}
_REGISTER_KEYS = {"asset", "channel", "table", "address", "type", "word_order", "byte_order", "scale", "offset",
                  "signal", "range", "valid", "description"}
_ORDERS = ("big", "little")
_SIGNALS = ("4-20mA",)


class RegisterMapError(ValueError):
    """The register map cannot be used; the message lists every problem found."""


@dataclass(frozen=True, slots=True)
class TcpLink:
    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp {plain(self.host)}:{self.port}"


@dataclass(frozen=True, slots=True)
class RtuLink:
    serial_port: str
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8

    def __str__(self) -> str:
        return f"rtu {plain(self.serial_port)} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class RegisterDef:
    asset: str
    channel: str
    table: Table
    address: int
    encoding: Encoding

    @property
    def name(self) -> str:
        return f"{self.asset}/{self.channel}"

    @property
    def size(self) -> int:
        """Addresses it occupies: words for registers, one for a bit."""
        return 1 if self.table.is_bits else self.encoding.words

    @property
    def end(self) -> int:
        return self.address + self.size - 1

    def where(self, device: str) -> str:
        return f"device {quoted(device)} register {quoted(self.name)} ({self.table.value} {self.address})"


@dataclass(frozen=True, slots=True)
class DeviceDef:
    name: str
    link: TcpLink | RtuLink
    device_id: int
    poll_interval_s: float
    timeout_s: float
    registers: tuple[RegisterDef, ...]
    max_gap: int = 8
    max_registers_per_read: int = MAX_READ_REGISTERS
    max_bits_per_read: int = MAX_READ_BITS
    reconnect_min_s: float = 0.25
    reconnect_max_s: float = 4.0


@dataclass(frozen=True, slots=True)
class RegisterMap:
    devices: tuple[DeviceDef, ...]
    frame_period_s: float = 1.0
    stale_after_polls: float = 2.0
    origin: str = "<register map>"

    @property
    def assets(self) -> tuple[str, ...]:
        """Assets in order of first appearance in the file."""
        return tuple(dict.fromkeys(r.asset for d in self.devices for r in d.registers))


def load_register_map(path: str | Path) -> RegisterMap:
    p = resolve_map_path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegisterMapError(f"register map not found: {p}") from None
    except OSError as exc:  # a directory, no permission, an I/O error
        raise RegisterMapError(f"cannot read register map {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RegisterMapError(f"register map {p} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
                               "UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegisterMapError(f"register map {p} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise RegisterMapError(f"register map {p} is not valid TOML: nested too deeply") from None
    return parse_register_map(data, origin=str(p))


def parse_register_map(data: dict[str, Any], origin: str = "<register map>") -> RegisterMap:
    """Validate a parsed TOML document; raises :class:`RegisterMapError` listing every problem."""
    errors: list[str] = []
    _unknown(data, _TOP_KEYS, "top level", errors)
    frame_period = _number(data, "frame_period_s", 1.0, 0.05, 60.0, "top level", errors)
    stale_after = _number(data, "stale_after_polls", 2.0, 1.0, 100.0, "top level", errors)
    raw_devices = data.get("device", [])
    if not isinstance(raw_devices, list) or not raw_devices:
        errors.append("top level: no [[device]] tables; a register map needs at least one device")
        raw_devices = []
    devices = [d for i, raw in enumerate(raw_devices) if (d := _device(raw, i, errors)) is not None]
    _check_across_devices(devices, errors)
    if errors:
        raise RegisterMapError(f"register map {origin} has {len(errors)} problem(s):\n  - " + "\n  - ".join(errors))
    return RegisterMap(tuple(devices), frame_period, stale_after, origin)


# -- one device ---------------------------------------------------------------------------------------------
def _device(raw: Any, index: int, errors: list[str]) -> DeviceDef | None:
    if not isinstance(raw, dict):
        errors.append(f"device #{index + 1}: must be a table ([[device]]), got {quoted(raw)}")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"device #{index + 1}: 'name' must be a non-empty string, got {quoted(name)}")
        name = f"#{index + 1}"
    where = f"device {quoted(name)}"
    _unknown(raw, _DEVICE_KEYS, where, errors)
    transport = raw.get("transport")
    link: TcpLink | RtuLink | None = None
    if transport == "tcp":
        link = _tcp_link(raw, where, errors)
    elif transport == "rtu":
        link = _rtu_link(raw, where, errors)
    else:
        errors.append(f"{where}: transport {quoted(transport)} is not one of 'tcp', 'rtu'")
    max_id = 255 if transport == "tcp" else 247
    device_id = _integer(raw, "device_id", 1, 0 if transport == "tcp" else 1, max_id, where, errors)
    poll = _number(raw, "poll_interval_s", 1.0, 0.01, 3600.0, where, errors)
    timeout = _number(raw, "timeout_s", 1.0, 0.01, 30.0, where, errors)
    defaults = {
        "asset": raw.get("asset"),
        "word_order": _choice(raw, "word_order", "big", _ORDERS, where, errors),
        "byte_order": _choice(raw, "byte_order", "big", _ORDERS, where, errors),
    }
    if defaults["asset"] is not None and (not isinstance(defaults["asset"], str) or not defaults["asset"]):
        errors.append(f"{where}: asset {quoted(defaults['asset'])} must be a non-empty string")
        defaults["asset"] = None
    max_gap = _integer(raw, "max_gap", 8, 0, MAX_READ_REGISTERS, where, errors)
    max_regs = _integer(raw, "max_registers_per_read", MAX_READ_REGISTERS, 1, MAX_READ_REGISTERS, where, errors)
    max_bits = _integer(raw, "max_bits_per_read", MAX_READ_BITS, 1, MAX_READ_BITS, where, errors)
    rmin = _number(raw, "reconnect_min_s", 0.25, 0.01, 60.0, where, errors)
    rmax = _number(raw, "reconnect_max_s", 4.0, 0.01, 3600.0, where, errors)
    if rmax < rmin:
        errors.append(f"{where}: reconnect_max_s ({rmax:g}) must be >= reconnect_min_s ({rmin:g})")
    raw_regs = raw.get("register", [])
    if not isinstance(raw_regs, list) or not raw_regs:
        errors.append(f"{where}: no registers; add [[device.register]] tables (asset, channel, table, address, type)")
        raw_regs = []
    parsed = [_register(rr, i, name, defaults, errors) for i, rr in enumerate(raw_regs)]
    regs = [r for r, ok in parsed if r is not None and ok]
    too_big = [r for r in regs if r.size > (max_bits if r.table.is_bits else max_regs)]
    for r in too_big:
        errors.append(f"{r.where(name)}: needs {r.size} registers but the device reads at most {max_regs} at a time")
    _check_overlaps(name, [r for r, _ in parsed if r is not None], errors)  # broken ones too: say it all at once
    if link is None:
        return None
    return DeviceDef(name, link, device_id, poll, timeout, tuple(regs), max_gap, max_regs, max_bits, rmin, rmax)


def _tcp_link(raw: _Toml, where: str, errors: list[str]) -> TcpLink:
    for key in _RTU_ONLY & raw.keys():
        errors.append(f"{where}: {quoted(key)} is for transport 'rtu'; a tcp device has host and port")
    host = raw.get("host")
    if not isinstance(host, str) or not host:
        errors.append(f"{where}: host must be a host name or IP address (string), got {quoted(host)}")
        host = "?"
    port = _integer(raw, "port", 502, 1, 65535, where, errors)
    return TcpLink(host, port)


def _rtu_link(raw: _Toml, where: str, errors: list[str]) -> RtuLink:
    for key in _TCP_ONLY & raw.keys():
        errors.append(f"{where}: {quoted(key)} is for transport 'tcp'; an rtu device has serial_port, baudrate, "
                      f"parity, stopbits, bytesize")
    port = raw.get("serial_port")
    if not isinstance(port, str) or not port:
        errors.append(f"{where}: serial_port must name the serial device (e.g. '/dev/ttyUSB0'), "
                      f"got {quoted(port)}")
        port = "?"
    baud = _integer(raw, "baudrate", 19200, 300, 1_000_000, where, errors)
    parity = _choice(raw, "parity", "E", ("N", "E", "O"), where, errors)
    stopbits = _integer(raw, "stopbits", 1, 1, 2, where, errors)
    bytesize = _integer(raw, "bytesize", 8, 7, 8, where, errors)
    return RtuLink(port, baud, parity, stopbits, bytesize)


# -- one register -------------------------------------------------------------------------------------------
def _register(raw: Any, index: int, device: str, defaults: dict[str, Any], errors: list[str]
              ) -> tuple[RegisterDef | None, bool]:
    """(register, valid). An invalid register with a usable table and address is still returned (as one
    word) so that an overlap can be reported in the same run."""
    if not isinstance(raw, dict):
        errors.append(f"device {quoted(device)} register #{index + 1}: must be a table, got {quoted(raw)}")
        return None, False
    asset = raw.get("asset", defaults["asset"])
    channel: Any = raw.get("channel")  # TOML values: of any type until checked below
    table_text: Any = raw.get("table")
    address = raw.get("address")
    label = f"{asset}/{channel}" if isinstance(asset, str) and isinstance(channel, str) else f"#{index + 1}"
    where = f"device {quoted(device)} register {quoted(label)} ({plain(table_text)} {plain(address)})"
    before = len(errors)
    _unknown(raw, _REGISTER_KEYS, where, errors)
    if not isinstance(asset, str) or not asset:
        errors.append(f"{where}: asset must be a non-empty string (set it here or as the device's asset), "
                      f"got {quoted(asset)}")
    elif not valid_asset_name(asset):
        errors.append(f"{where}: asset {quoted(asset)} is not allowed; allowed: {ASSET_NAME_RULE}")
    if channel not in CHANNELS:
        errors.append(f"{where}: channel {quoted(channel)} is not one of {', '.join(CHANNELS)}")
    placed = True
    try:
        table = Table(table_text)
    except ValueError:
        errors.append(f"{where}: table {quoted(table_text)} is not one of {', '.join(t.value for t in Table)}")
        table, placed = Table.HOLDING, False
    if isinstance(address, bool) or not isinstance(address, int) or not 0 <= address <= 65535:
        errors.append(f"{where}: address {quoted(address)} must be an integer 0..65535 (the protocol address: "
                      f"holding register 40001 in 1-based 4xxxx notation is address 0)")
        address, placed = 0, False
    encoding = _encoding(raw, table, channel if channel in CHANNELS else None, defaults, where, errors)
    if encoding is not None and address + (1 if table.is_bits else encoding.words) - 1 > 65535:
        errors.append(f"{where}: a {encoding.type.value} at {address} runs past address 65535")
    if len(errors) == before and encoding is not None:
        return RegisterDef(asset, channel, table, address, encoding), True
    if not placed:
        return None, False
    probe = encoding or Encoding(RegType.BOOL if table.is_bits else RegType.UINT16)
    return RegisterDef(str(asset), str(channel), table, address, probe), False


def _encoding(raw: _Toml, table: Table, channel: str | None, defaults: dict[str, Any], where: str,
              errors: list[str]) -> Encoding | None:
    type_text = raw.get("type", "bool" if table.is_bits else None)
    if table.is_bits:
        if type_text != "bool":
            errors.append(f"{where}: a {table.value} is one bit: type must be 'bool' (or left out), "
                          f"got {quoted(type_text)}")
            return None
        reg_type = RegType.BOOL
    else:
        allowed = [t.value for t in REGISTER_TYPES]
        if type_text not in allowed:
            errors.append(f"{where}: type {quoted(type_text)} is not one of {', '.join(allowed)}")
            return None
        reg_type = RegType(type_text)
    word_order = _choice(raw, "word_order", defaults["word_order"], _ORDERS, where, errors)
    byte_order = _choice(raw, "byte_order", defaults["byte_order"], _ORDERS, where, errors)
    scale = _number(raw, "scale", 1.0, -math.inf, math.inf, where, errors)
    if scale == 0:
        errors.append(f"{where}: scale must not be 0")
        scale = 1.0
    offset = _number(raw, "offset", 0.0, -math.inf, math.inf, where, errors)
    signal = raw.get("signal")
    ma_range = None
    if signal is not None:
        if signal not in _SIGNALS:
            errors.append(f"{where}: signal {quoted(signal)} is not one of {', '.join(_SIGNALS)} (leave it out for a "
                          f"plain value: engineering = raw * scale + offset)")
        elif table.is_bits:
            errors.append(f"{where}: a {table.value} cannot carry a 4-20 mA signal")
        else:
            ma_range = _pair(raw, "range", where, errors, required=True,
                             hint="the engineering values at 4 mA and at 20 mA, e.g. range = [0.0, 10.0]")
    elif "range" in raw:
        errors.append(f"{where}: range is only for signal = '4-20mA'; for a plain value use scale and offset "
                      f"(and valid for the accepted band)")
    valid = _pair(raw, "valid", where, errors, required=False, hint="e.g. valid = [0.0, 100.0]")
    if valid is not None and valid[0] >= valid[1]:
        errors.append(f"{where}: valid = [{valid[0]:g}, {valid[1]:g}]: the low end must be below the high end")
    if valid is None and ma_range is None and channel is not None:
        # every channel has a range: an implausible value is bad data, never physics (a 4-20 mA loop has its
        # NE 43 band, which the configured span bounds)
        valid = plausible_range(channel)
    return Encoding(reg_type, word_order, byte_order, scale, offset, ma_range, valid)


# -- whole-map checks ---------------------------------------------------------------------------------------
def _check_overlaps(device: str, regs: list[RegisterDef], errors: list[str]) -> None:
    for table in Table:
        mine = sorted((r for r in regs if r.table is table), key=lambda r: r.address)
        for prev, cur in pairwise(mine):
            if cur.address <= prev.end:
                errors.append(f"{cur.where(device)}: overlaps register {quoted(prev.name)} "
                              f"({table.value} {prev.address}..{prev.end})")


def _check_across_devices(devices: list[DeviceDef], errors: list[str]) -> None:
    names: set[str] = set()
    owners: dict[tuple[str, str], str] = {}
    endpoints: dict[tuple[str | int, ...], str] = {}  # (host, port, device id) or (serial port, device id)
    lines: dict[str, RtuLink] = {}
    for d in devices:
        if d.name in names:
            errors.append(f"device {quoted(d.name)}: the name is used by another device; names must be unique")
        names.add(d.name)
        for r in d.registers:
            key = (r.asset, r.channel)
            if key in owners:
                errors.append(f"{r.where(d.name)}: channel {quoted(r.name)} is already mapped by {owners[key]}; "
                              f"each channel has exactly one register")
            else:
                owners[key] = r.where(d.name)
        ep = (d.link.host, d.link.port) if isinstance(d.link, TcpLink) else (d.link.serial_port,)
        if (*ep, d.device_id) in endpoints:
            errors.append(f"device {quoted(d.name)}: {d.link} device_id {d.device_id} is also device "
                          f"{quoted(endpoints[(*ep, d.device_id)])}")
        endpoints[(*ep, d.device_id)] = d.name
        if isinstance(d.link, RtuLink):
            other = lines.setdefault(d.link.serial_port, d.link)
            if other != d.link:
                errors.append(f"device {quoted(d.name)}: {d.link} differs from another device on the same line "
                              f"({other}); one serial line has one baudrate, parity, stopbits and bytesize")


# -- small typed getters that report instead of raising -----------------------------------------------------
def _unknown(raw: _Toml, allowed: set[str], where: str, errors: list[str]) -> None:
    for key in sorted(raw.keys() - allowed):
        errors.append(f"{where}: unknown key {quoted(key)} (allowed: {', '.join(sorted(allowed))})")


def _number(raw: _Toml, key: str, default: float, lo: float, hi: float, where: str, errors: list[str]) -> float:
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        bounds = "a finite number" if math.isinf(lo) and math.isinf(hi) else f"a number {lo:g}..{hi:g}"
        errors.append(f"{where}: {key} = {quoted(v)} must be {bounds}")
        return default
    return float(v)


def _integer(raw: _Toml, key: str, default: int, lo: int, hi: int, where: str, errors: list[str]) -> int:
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        errors.append(f"{where}: {key} = {quoted(v)} must be an integer {lo}..{hi}")
        return default
    return v


def _choice(raw: _Toml, key: str, default: str, allowed: tuple[str, ...], where: str, errors: list[str]) -> str:
    v = raw.get(key, default)
    if v not in allowed:
        errors.append(f"{where}: {key} {quoted(v)} is not one of {', '.join(repr(a) for a in allowed)}")
        return default
    return str(v)  # one of allowed


def _pair(raw: _Toml, key: str, where: str, errors: list[str], required: bool, hint: str) -> tuple[float, float] | None:
    v = raw.get(key)
    if v is None:
        if required:
            errors.append(f"{where}: {key} is required: {hint}")
        return None
    ok = (isinstance(v, list) and len(v) == 2
          and all(not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) for x in v))
    if not ok:
        errors.append(f"{where}: {key} = {quoted(v)} must be two finite numbers, {hint}")
        return None
    if key == "range" and v[0] == v[1]:
        errors.append(f"{where}: range = {quoted(v)}: the values at 4 mA and 20 mA must differ")
        return None
    return float(v[0]), float(v[1])
