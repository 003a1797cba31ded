"""Decoding agrees with implementations not written here: pymodbus's own server and its typed datastore
(SimData encodes int16 ... float32 itself), and words packed with struct for the other word and byte orders.

Registers sit one address apart (never adjacent) except where noted, and the server rejects reads of
unmapped addresses: with max_gap = 0 the poller must read exactly what is mapped to get every value GOOD.
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.channels import CHANNELS
from acquisition.modbus import ModbusPoller, parse_register_map
from acquisition.quality import Quality
from tests.acquisition.modbus.peers import free_port, wait_until
from tests.acquisition.modbus.test_tcp_simulator import all_good

HERE = Path(__file__).resolve().parent
FMT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f"}
# every value of every type is valid here: this test is about decoding, the channels' plausible ranges are not
WHOLE_TYPE = [-2.0**32, 2.0**32]
VALUES = {"int16": -12345, "uint16": 54321, "int32": -123456789, "uint32": 3123456789, "float32": -1234.5625}

# (type, word order, byte order, encoded by): pymodbus encodes big/big itself, struct the rest
CASES = [(t, "big", "big", "pymodbus") for t in FMT] + [
    (t, w, b, "struct") for t in FMT for w in ("big", "little") for b in ("big", "little")
    if (w, b) != ("big", "big") and not (FMT[t] in "hH" and w == "little")]


def struct_words(t: str, v: float, word_order: str, byte_order: str) -> list[int]:
    raw = struct.pack(">" + FMT[t], v)
    pairs = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    if word_order == "little":
        pairs.reverse()
    if byte_order == "little":
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


def build(tmp_path: Path) -> tuple[Path, list[dict], dict[tuple[str, str], float]]:
    spec, registers, expected = [], [], {}
    address = 10
    for i, (t, w, b, by) in enumerate(CASES):
        asset, channel = f"T-{i // 8}", CHANNELS[i % 8]
        table = "holding" if i % 2 else "input"
        v = VALUES[t]
        if by == "pymodbus":
            spec.append({"table": table, "address": address, "datatype": t.upper(), "values": [v]})
        else:
            spec.append({"table": table, "address": address, "datatype": "REGISTERS",
                         "values": struct_words(t, v, w, b)})
        registers.append({"asset": asset, "channel": channel, "table": table, "address": address, "type": t,
                          "word_order": w, "byte_order": b, "valid": WHOLE_TYPE})
        expected[(asset, channel)] = struct.unpack(">" + FMT[t], struct.pack(">" + FMT[t], v))[0]
        address += 4
    n = len(CASES)
    # scaling and a 4-20 mA loop on top of an independently encoded uint16: 16 mA in uA -> 75 % of 0..200
    spec.append({"table": "holding", "address": 500, "datatype": "UINT16", "values": [16000]})
    registers.append({"asset": f"T-{n // 8}", "channel": CHANNELS[n % 8], "table": "holding", "address": 500,
                      "type": "uint16", "scale": 0.001, "signal": "4-20mA", "range": [0.0, 200.0]})
    expected[(f"T-{n // 8}", CHANNELS[n % 8])] = 150.0
    # a coil and a discrete input, and two adjacent int16 read in one request
    spec += [{"table": "coil", "address": 0, "datatype": "BITS", "values": [False, False, False, True] + [False] * 12},
             {"table": "discrete", "address": 0, "datatype": "BITS", "values": [False] * 5 + [True] + [False] * 10},
             {"table": "input", "address": 600, "datatype": "INT16", "values": [-2, 300]}]
    for j, (table, addr, t, v) in enumerate([("coil", 3, "bool", 1.0), ("discrete", 5, "bool", 1.0),
                                              ("input", 600, "int16", -0.2), ("input", 601, "int16", 30.0)]):
        k = n + 1 + j
        reg: dict[str, Any] = {"asset": f"T-{k // 8}", "channel": CHANNELS[k % 8], "table": table, "address": addr,
                               "type": t}
        if t == "int16":
            reg["scale"] = 0.1
        registers.append(reg)
        expected[(reg["asset"], reg["channel"])] = v
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path, registers, expected


def test_every_type_and_order_decodes_as_an_independent_encoder_meant(tmp_path: Path) -> None:
    spec, registers, expected = build(tmp_path)
    port = free_port()
    plant = parse_register_map({"device": [{
        "name": "independent", "transport": "tcp", "host": "127.0.0.1", "port": port, "device_id": 1,
        "poll_interval_s": 0.1, "timeout_s": 1.0, "max_gap": 0, "register": registers}]})
    server = subprocess.Popen([sys.executable, str(HERE / "independent_server.py"), str(spec), str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    poller = ModbusPoller(plant)
    try:
        assert server.stdout is not None and "serving" in server.stdout.readline()
        poller.start()
        wait_until(lambda: all_good(poller) and poller.health["independent"].polls >= 2, 15,
                   f"every value GOOD (skipped: {poller.stats.skipped})")
        values, quality = poller.held.snapshot()
    finally:
        poller.stop()
        server.kill()
        server.wait(10)
    assert poller.stats.skipped == {}
    assert len(expected) == len(registers) == 21  # 16 type/order cases, a 4-20 mA loop, 2 bits, 2 scaled
    for (asset, channel), want in expected.items():
        i, c = plant.assets.index(asset), CHANNELS.index(channel)
        assert quality[i, c] == Quality.GOOD
        assert values[i, c] == pytest.approx(want, rel=1e-12, abs=1e-9), (asset, channel, registers)
    assert np.isfinite(values[quality == Quality.GOOD]).all()
