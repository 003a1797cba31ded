"""The quality of a held value at frame time (pure logic on a hand-moved clock) and the diagnosis of failed
transactions from their bytes."""
from __future__ import annotations

import numpy as np
from pymodbus.framer.rtu import FramerRTU

from acquisition.channels import INDEX
from acquisition.held_values import HeldValues
from acquisition.modbus import parse_register_map
from acquisition.modbus.poller import held_values_for
from acquisition.modbus.wire import diagnose_rtu, diagnose_tcp
from acquisition.quality import Quality
from tests.fakes import FakeClock

G, S, B, C, N, V = (Quality.GOOD, Quality.STALE, Quality.BAD, Quality.COMM_FAIL, Quality.NOT_CONFIGURED,
                    Quality.NO_VALUE)


def plant():
    regs = [{"channel": ch, "table": "holding", "address": i, "type": "int16"}
            for i, ch in enumerate(("flow", "pressure"))]
    return parse_register_map({"stale_after_polls": 2, "device": [
        {"name": "d1", "transport": "tcp", "host": "h", "device_id": 1, "poll_interval_s": 1.0, "asset": "P-1",
         "register": regs},
        {"name": "d2", "transport": "tcp", "host": "h", "device_id": 2, "poll_interval_s": 5.0, "asset": "P-2",
         "register": [{"channel": "current", "table": "input", "address": 0, "type": "int16"}]}]})


def q_of(held: HeldValues, asset: str, channel: str) -> Quality:
    return Quality(held.snapshot()[1][held.assets().index(asset), INDEX[channel]])


def test_a_plant_maps_to_a_link_per_device_with_its_own_windows() -> None:
    p = plant()
    clock = FakeClock(100.0)
    held = held_values_for(p, clock)
    assert held.assets() == ("P-1", "P-2")
    assert q_of(held, "P-1", "flow") == C and q_of(held, "P-2", "flow") == N  # nothing heard yet / unmapped
    rows = np.array([held.slot("P-1", INDEX["flow"])[0]])
    held.hold_read(0, rows, np.array([INDEX["flow"]]), [12.5], [True])
    assert q_of(held, "P-1", "flow") == G
    assert q_of(held, "P-1", "pressure") == V  # the device answers, this register has not yet: no value
    assert q_of(held, "P-2", "current") == C  # the other device is its own link: still never heard
    clock.t += 2.25  # over 2 polls of d1: its value is old and d1 silent as long
    assert q_of(held, "P-1", "flow") == C
    held.link_up(0)
    assert q_of(held, "P-1", "flow") == S
    held.link_up(1)
    assert q_of(held, "P-2", "current") == V
    clock.t += 10.0  # exactly 2 polls of d2: not yet silent
    assert q_of(held, "P-2", "current") == V
    clock.t += 0.25
    assert q_of(held, "P-2", "current") == C


def _rtu(frame: bytes) -> bytes:
    return frame + FramerRTU.compute_CRC(frame).to_bytes(2, "big")


def test_rtu_diagnosis() -> None:
    request = _rtu(bytes([1, 3, 0, 0, 0, 2]))
    good = _rtu(bytes([1, 3, 4, 0x41, 0x20, 0, 0]))
    assert diagnose_rtu(request, b"") == "timeout"
    assert diagnose_rtu(request, good[:-3]) == "truncated_frame"
    assert diagnose_rtu(request, good[:-1] + bytes([good[-1] ^ 0x01])) == "crc_error"
    assert diagnose_rtu(request, b"\x55\xaa\x13\x37" + good) == "garbage"
    assert diagnose_rtu(request, bytes([1, 3, 9]) + bytes(11)) == "garbage"  # byte count does not fit
    assert diagnose_rtu(request, _rtu(bytes([1, 0x83]))[:3]) == "truncated_frame"
    assert diagnose_rtu(request, good + b"\x00") == "garbage"


def test_tcp_diagnosis() -> None:
    request = bytes([0, 7, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2])
    answer = bytes([0, 7, 0, 0, 0, 7, 1, 3, 4, 1, 2, 3, 4])
    assert diagnose_tcp(request, b"") == "timeout"
    assert diagnose_tcp(request, answer[:5]) == "truncated_frame"
    assert diagnose_tcp(request, answer[:10]) == "truncated_frame"
    assert diagnose_tcp(request, b"HTTP/1.1 400 Bad") == "garbage"
    assert diagnose_tcp(request, bytes([0, 6]) + answer[2:]) == "unexpected_response"
