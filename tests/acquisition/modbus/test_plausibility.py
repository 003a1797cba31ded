"""Implausible values are bad quality, not physics (issue 9, defect 1) on Modbus: a register without `valid`
still has a range - its channel's plausible one (acquisition/channels.py) - and a 4-20 mA loop is bounded by its
NE 43 band; outside, NaN or infinite is BAD."""
from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from acquisition.channels import CHANNELS, INDEX, PUMP_CHANNELS, plausible_range
from acquisition.modbus import ModbusPoller, parse_register_map
from acquisition.quality import Quality
from tests.acquisition.modbus.peers import free_port, wait_until

HERE = Path(__file__).resolve().parent


def f32_words(v: float) -> list[int]:
    return list(struct.unpack(">2H", struct.pack(">f", v)))


def plant_without_valid(port: int = 502):
    """A float32 (ABCD) register per channel at 2 * index, none with `valid`."""
    return parse_register_map({"device": [{
        "name": "d", "transport": "tcp", "host": "127.0.0.1", "port": port, "asset": "P-1", "poll_interval_s": 0.1,
        "timeout_s": 1.0, "max_gap": 0,
        "register": [{"channel": c, "table": "holding", "address": 2 * i, "type": "float32"}
                     for i, c in enumerate(CHANNELS)]}]})


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_register_without_valid_gets_its_channels_plausible_range(channel: str) -> None:
    reg = plant_without_valid().devices[0].registers[INDEX[channel]]
    lo, hi = plausible_range(channel)
    assert reg.encoding.valid == (lo, hi)
    inside = (hi - lo) * 1e-6  # float32 rounding must not carry an edge value across
    for v in (lo + inside, hi - inside, (lo + hi) / 2):
        value, why = reg.encoding.decode(f32_words(v))
        assert why is None and value == pytest.approx(v, rel=1e-6), (channel, v)
    for v in (hi * 1.01 + 1, lo * 1.01 - 1, 1e6 if hi < 1e6 else 1e7, -3.0e38, math.inf, -math.inf, math.nan):
        value, why = reg.encoding.decode(f32_words(v))
        assert math.isnan(value) and why is not None, (channel, v)


def test_an_explicit_valid_replaces_the_default() -> None:
    plant = parse_register_map({"device": [{
        "name": "d", "transport": "tcp", "host": "h", "asset": "P-1",
        "register": [{"channel": "current", "table": "holding", "address": 0, "type": "float32",
                      "valid": [0.0, 20_000.0]}]}]})
    assert plant.devices[0].registers[0].encoding.decode(f32_words(12_000.0)) == (12_000.0, None)


def test_a_4_20ma_loop_is_bounded_by_its_ne43_band_not_cut_by_the_default() -> None:
    """3.8 mA on a 0..25 A loop reads -0.31 A: a stopped pump's transmitter a little low, still GOOD."""
    plant = parse_register_map({"device": [{
        "name": "d", "transport": "tcp", "host": "h", "asset": "P-1",
        "register": [{"channel": "current", "table": "input", "address": 4, "type": "uint16", "scale": 0.001,
                      "signal": "4-20mA", "range": [0.0, 25.0]}]}]})
    enc = plant.devices[0].registers[0].encoding
    assert enc.decode([3800])[0] == pytest.approx(-0.3125) and enc.decode([3800])[1] is None
    assert enc.decode([3600])[1] is not None and enc.decode([21000])[1] is not None


def test_the_poller_reads_an_absurd_current_as_bad(tmp_path: Path) -> None:
    """Through pymodbus's own server: 1e6 A in a float32 register mapped without `valid` is BAD, NaN and inf
    bit patterns are BAD, a sound value beside them is GOOD."""
    port = free_port()
    values = {"current": f32_words(1.0e6), "vib_de": [0x7FC0, 0x0000], "pressure": [0x7F80, 0x0000],
              "motor_temp": [0xFF80, 0x0000], "flow": f32_words(80.0)}
    spec = [{"table": "holding", "address": 2 * INDEX[c], "datatype": "REGISTERS", "values": w}
            for c, w in values.items()]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    plant = parse_register_map({"device": [{
        "name": "d", "transport": "tcp", "host": "127.0.0.1", "port": port, "asset": "P-1", "poll_interval_s": 0.1,
        "timeout_s": 1.0, "max_gap": 0,
        "register": [{"channel": c, "table": "holding", "address": 2 * INDEX[c], "type": "float32"} for c in values]}]})
    server = subprocess.Popen([sys.executable, str(HERE / "independent_server.py"), str(tmp_path / "spec.json"),
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    poller = ModbusPoller(plant)
    try:
        assert server.stdout is not None and "serving" in server.stdout.readline()
        poller.start()
        wait_until(lambda: poller.health["d"].polls >= 2, 15, f"two polls (skipped: {poller.stats.skipped})")
        snapshot, quality = poller.held.snapshot()
    finally:
        poller.stop()
        server.kill()
        server.wait(10)
    for c in ("current", "vib_de", "pressure", "motor_temp"):
        assert quality[0, INDEX[c]] == Quality.BAD and math.isnan(snapshot[0, INDEX[c]]), c
    assert quality[0, INDEX["flow"]] == Quality.GOOD and snapshot[0, INDEX["flow"]] == 80.0


def test_the_documented_table_matches_the_code() -> None:
    doc = (HERE.parents[2] / "docs" / "modbus.md").read_text(encoding="utf-8")
    for c in PUMP_CHANNELS:
        lo, hi = c.plausible
        assert f"| `{c.name}` | {lo:g} .. {hi:g} {c.unit} |" in doc, c.name
