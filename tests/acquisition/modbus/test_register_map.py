"""Loading and validating register maps; grouping registers into reads."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from acquisition.modbus import RegisterMapError, RegType, RtuLink, Table, TcpLink, load_register_map, parse_register_map
from acquisition.modbus.read_plan import plan_reads
from tests.acquisition.modbus.peers import RTU_MAP, TCP_MAP, map_data

GOOD_DEVICE = {"name": "plc-1", "transport": "tcp", "host": "10.0.0.5", "port": 502, "device_id": 1,
               "register": [{"asset": "P-101", "channel": "flow", "table": "holding", "address": 40,
                             "type": "float32"}]}


def problems(doc: dict) -> str:
    with pytest.raises(RegisterMapError) as err:
        parse_register_map(doc, origin="plant.toml")
    return str(err.value)


def device(**changes: object) -> dict:
    d = copy.deepcopy(GOOD_DEVICE)
    d.update(changes)
    return d


def register(**changes: object) -> dict:
    r = dict(GOOD_DEVICE["register"][0])  # type: ignore[index]
    r.update(changes)
    return {k: v for k, v in r.items() if v is not None}


def test_shipped_maps_load_and_differ_only_in_transport() -> None:
    tcp, rtu = load_register_map(TCP_MAP), load_register_map(RTU_MAP)
    assert tcp.assets == rtu.assets == ("P-101", "P-102")
    assert all(isinstance(d.link, TcpLink) for d in tcp.devices)
    assert all(isinstance(d.link, RtuLink) for d in rtu.devices)
    assert [d.registers for d in tcp.devices] == [d.registers for d in rtu.devices]
    assert [d.device_id for d in tcp.devices] == [d.device_id for d in rtu.devices]
    types = {(r.encoding.type, r.encoding.word_order, r.encoding.byte_order) for d in tcp.devices for r in d.registers}
    assert len(types) >= 6 and any(r.encoding.ma_range for r in tcp.devices[0].registers)


def test_every_channel_of_the_shipped_map_is_mapped_once() -> None:
    m = load_register_map(TCP_MAP)
    for asset in m.assets:
        chans = [r.channel for d in m.devices for r in d.registers if r.asset == asset]
        assert sorted(chans) == sorted(set(chans)) and len(chans) == 8


def test_the_example_of_the_issue_names_device_register_problem_and_what_is_allowed() -> None:
    doc = {"device": [device(register=[
        register(type="float64"),
        register(channel="pressure", address=39, type="int32"),
    ])]}
    text = problems(doc)
    assert "device 'plc-1' register 'P-101/flow' (holding 40): type 'float64' is not one of int16, uint16, int32, " \
           "uint32, float32" in text
    assert ("device 'plc-1' register 'P-101/flow' (holding 40): overlaps register 'P-101/pressure' "
            "(holding 39..40)") in text


@pytest.mark.parametrize("changes,expected", [
    ({"channel": "flw"}, "channel 'flw' is not one of vib_de, vib_nde, current"),
    ({"table": "holdings"}, "table 'holdings' is not one of holding, input, coil, discrete"),
    ({"address": 70000}, "address 70000 must be an integer 0..65535"),
    ({"address": 65535}, "a float32 at 65535 runs past address 65535"),
    ({"word_order": "middle"}, "word_order 'middle' is not one of 'big', 'little'"),
    ({"scale": 0}, "scale must not be 0"),
    ({"scale": "ten"}, "scale = 'ten' must be a finite number"),
    ({"signal": "0-10V"}, "signal '0-10V' is not one of 4-20mA"),
    ({"signal": "4-20mA"}, "range is required: the engineering values at 4 mA and at 20 mA"),
    ({"signal": "4-20mA", "range": [5, 5]}, "the values at 4 mA and 20 mA must differ"),
    ({"range": [0, 10]}, "range is only for signal = '4-20mA'"),
    ({"valid": [10, 0]}, "the low end must be below the high end"),
    ({"valid": [0]}, "valid = [0] must be two finite numbers"),
    ({"sclae": 2}, "unknown key 'sclae' (allowed: address, asset, byte_order"),
    ({"table": "coil", "type": "int16"}, "a coil is one bit: type must be 'bool'"),
    ({"table": "coil", "type": None, "signal": "4-20mA", "range": [0, 1]}, "a coil cannot carry a 4-20 mA signal"),
    ({"asset": None}, "asset must be a non-empty string (set it here or as the device's asset)"),
])
def test_register_problems(changes: dict, expected: str) -> None:
    text = problems({"device": [device(register=[register(**changes)])]})
    assert "device 'plc-1' register" in text and expected in text


@pytest.mark.parametrize("changes,expected", [
    ({"transport": "udp"}, "device 'plc-1': transport 'udp' is not one of 'tcp', 'rtu'"),
    ({"port": 0}, "device 'plc-1': port = 0 must be an integer 1..65535"),
    ({"host": ""}, "device 'plc-1': host must be a host name or IP address"),
    ({"serial_port": "/dev/ttyS0"}, "'serial_port' is for transport 'rtu'"),
    ({"device_id": 256}, "device_id = 256 must be an integer 0..255"),
    ({"poll_interval_s": 0}, "poll_interval_s = 0 must be a number 0.01..3600"),
    ({"timeout_s": -1}, "timeout_s = -1 must be a number 0.01..30"),
    ({"max_registers_per_read": 200}, "max_registers_per_read = 200 must be an integer 1..125"),
    ({"reconnect_min_s": 5.0, "reconnect_max_s": 1.0}, "reconnect_max_s (1) must be >= reconnect_min_s (5)"),
    ({"register": []}, "no registers; add [[device.register]] tables"),
    ({"colour": "red"}, "device 'plc-1': unknown key 'colour'"),
])
def test_device_problems(changes: dict, expected: str) -> None:
    assert expected in problems({"device": [device(**changes)]})


def test_rtu_device_problems() -> None:
    rtu = device(transport="rtu", serial_port="/dev/ttyUSB0", parity="X", baudrate=19200, device_id=0)
    del rtu["host"], rtu["port"]
    text = problems({"device": [rtu]})
    assert "parity 'X' is not one of 'N', 'E', 'O'" in text
    assert "device_id = 0 must be an integer 1..247" in text


def test_problems_across_devices() -> None:
    second = device(name="plc-1")
    third = device(name="plc-2", register=[register(channel="flow", address=7)])
    text = problems({"device": [device(), second, third]})
    assert "device 'plc-1': the name is used by another device" in text
    assert "channel 'P-101/flow' is already mapped by device 'plc-1' register 'P-101/flow' (holding 40)" in text
    assert "tcp 10.0.0.5:502 device_id 1 is also device 'plc-1'" in text


def test_one_serial_line_has_one_set_of_line_settings() -> None:
    a = {"name": "a", "transport": "rtu", "serial_port": "/dev/ttyUSB0", "baudrate": 19200, "device_id": 1,
         "register": [register()]}
    b = dict(a, name="b", baudrate=9600, device_id=2, register=[register(channel="pressure")])
    assert "differs from another device on the same line" in problems({"device": [a, b]})


def test_top_level_problems_and_all_are_reported_together() -> None:
    text = problems({"frame_period_s": 0, "devices": [], "device": [device(port=0, register=[register(type="x")])]})
    assert "has 4 problem(s)" in text
    assert "frame_period_s = 0 must be a number 0.05..60" in text and "unknown key 'devices'" in text


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RegisterMapError, match="register map not found"):
        load_register_map(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[device]\n")
    with pytest.raises(RegisterMapError, match="is not valid TOML"):
        load_register_map(bad)
    with pytest.raises(RegisterMapError, match="no \\[\\[device\\]\\] tables"):
        parse_register_map({})


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x80", r"plant.toml is not UTF-8 text \(byte 0: "),
    ("[[device]]\nname = 'pompe-\u00e9'\n".encode("latin-1"), r"plant.toml is not UTF-8 text \(byte \d+: "),
    (b"a = " + b"[" * 5000, r"plant.toml is not valid TOML: nested too deeply"),
    (b"device = " + b"{a = " * 3000, r"plant.toml is not valid TOML: nested too deeply"),
], ids=["invalid-start-byte", "latin-1", "nested-arrays", "nested-tables"])
def test_a_file_that_cannot_be_read_as_toml_is_a_clear_error(tmp_path: Path, content: bytes, expected: str) -> None:
    """Found by tests/fuzz/test_modbus_input.py: UnicodeDecodeError and RecursionError escaped the loader."""
    (tmp_path / "plant.toml").write_bytes(content)
    with pytest.raises(RegisterMapError, match=expected):
        load_register_map(tmp_path / "plant.toml")


def test_a_directory_or_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    """Found by tests/fuzz/test_modbus_input.py: IsADirectoryError escaped the loader."""
    with pytest.raises(RegisterMapError, match="cannot read register map .*: Is a directory"):
        load_register_map(tmp_path)


FORGED = "\n  - device 'plc-1': forged problem"


@pytest.mark.parametrize("changes", [{"table": "holding" + FORGED}, {"address": "1" + FORGED}, {"asset": "A" + FORGED},
                                     {"channel": "flow" + FORGED}, {"scale": "x" * 5000}, {"type": "\x1b[2J"},
                                     {"valid": ["\x00", 1]}, {"word_order": "big" + FORGED}],
                         ids=["table", "address", "asset", "channel", "huge", "escape", "valid", "order"])
def test_values_in_a_problem_are_shown_escaped_and_short(changes: dict) -> None:
    """Found by tests/fuzz/test_modbus_input.py: a table or address with a newline was printed raw (a forged
    problem line), and a 5,000-character value in full."""
    text = problems({"device": [device(register=[register(**changes)])]})
    lines = text.split("\n")
    assert len(lines) == 1 + int(text.split(" has ")[1].split(" ")[0]), lines  # one line per problem
    for line in lines:
        assert all(ord(c) >= 0x20 for c in line) and len(line) < 400, line


def test_device_defaults_apply_to_registers() -> None:
    m = parse_register_map({"device": [device(asset="P-200", word_order="little", byte_order="little", register=[
        {"channel": "flow", "table": "input", "address": 0, "type": "float32"},
        {"channel": "current", "table": "input", "address": 2, "type": "float32", "word_order": "big"}])]})
    a, b = m.devices[0].registers
    assert (a.asset, a.encoding.word_order, a.encoding.byte_order) == ("P-200", "little", "little")
    assert (b.encoding.word_order, b.encoding.byte_order) == ("big", "little")
    assert m.assets == ("P-200",)


# -- grouping into reads -----------------------------------------------------------------------------------
def _regs(*specs: tuple[str, int, str]) -> list[dict]:
    chans = ["vib_de", "vib_nde", "current", "pressure", "motor_temp", "fluid_temp", "voltage", "flow"]
    return [{"asset": f"A-{i // 8}", "channel": chans[i % 8], "table": t, "address": a, "type": ty}
            for i, (t, a, ty) in enumerate(specs)]


def test_adjacent_registers_are_read_together_and_gaps_split() -> None:
    d = device(max_gap=2, register=_regs(("holding", 0, "float32"), ("holding", 2, "int16"), ("holding", 5, "int16"),
                                         ("holding", 9, "uint32"), ("input", 3, "int16"), ("coil", 0, "bool"),
                                         ("coil", 30, "bool"), ("coil", 70, "bool"), ("discrete", 7, "bool")))
    blocks = plan_reads(parse_register_map({"device": [d]}).devices[0])
    assert [(b.table, b.address, b.count) for b in blocks] == [
        (Table.HOLDING, 0, 6), (Table.HOLDING, 9, 2), (Table.INPUT, 3, 1), (Table.COIL, 0, 31), (Table.COIL, 70, 1),
        (Table.DISCRETE, 7, 1)]  # bits: a gap of up to 16 x max_gap


def test_a_read_never_exceeds_the_protocol_or_device_limit() -> None:
    regs = _regs(*[("holding", 2 * i, "float32") for i in range(100)])  # 200 contiguous words
    blocks = plan_reads(parse_register_map({"device": [device(register=regs)]}).devices[0])
    assert [b.count for b in blocks] == [124, 76] and sum(len(b.registers) for b in blocks) == 100
    limited = plan_reads(parse_register_map({"device": [device(register=regs, max_registers_per_read=10)]}).devices[0])
    assert max(b.count for b in limited) == 10 and len(limited) == 20
    bits = _regs(*[("discrete", i * 3, "bool") for i in range(1000)])  # spans 2998 bits
    bblocks = plan_reads(parse_register_map({"device": [device(register=bits)]}).devices[0])
    assert all(b.count <= 2000 for b in bblocks) and sum(len(b.registers) for b in bblocks) == 1000


def test_max_gap_zero_reads_only_mapped_addresses() -> None:
    d = device(max_gap=0, register=_regs(("holding", 0, "int16"), ("holding", 2, "int16"), ("holding", 3, "int16")))
    blocks = plan_reads(parse_register_map({"device": [d]}).devices[0])
    assert [(b.address, b.count) for b in blocks] == [(0, 1), (2, 2)]


def test_bool_registers_and_register_types() -> None:
    m = parse_register_map({"device": [device(register=_regs(("coil", 3, "bool"), ("input", 0, "uint32")))]})
    coil, inp = m.devices[0].registers
    assert coil.encoding.type is RegType.BOOL and coil.size == 1 and inp.size == 2 and inp.end == 1


def test_map_data_helper_reads_the_shipped_file() -> None:
    assert map_data()["device"][0]["name"] == "pump-101"
