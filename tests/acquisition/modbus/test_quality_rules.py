"""The quality of a held value at frame time (pure logic on a hand-moved clock) and the diagnosis of failed
transactions from their bytes."""
from __future__ import annotations

import math

import numpy as np
from pymodbus.framer.rtu import FramerRTU

from acquisition.channels import INDEX
from acquisition.modbus import parse_register_map
from acquisition.modbus.held_values import HeldValues
from acquisition.modbus.wire import diagnose_rtu, diagnose_tcp
from acquisition.quality import Quality, device_lost
from tests.fakes import FakeClock

G, S, B, C, N = Quality.GOOD, Quality.STALE, Quality.BAD, Quality.COMM_FAIL, Quality.NOT_CONFIGURED


def plant():
    regs = [{"channel": ch, "table": "holding", "address": i, "type": "int16"} for i, ch in enumerate(("flow", "pressure"))]
    return parse_register_map({"stale_after_polls": 2, "device": [
        {"name": "d1", "transport": "tcp", "host": "h", "device_id": 1, "poll_interval_s": 1.0, "asset": "P-1",
         "register": regs}]})


def slots(held: HeldValues) -> tuple[np.ndarray, np.ndarray]:
    regs = plant().devices[0].registers
    return np.array([held.slot(r)[0] for r in regs]), np.array([held.slot(r)[1] for r in regs])


def q_of(held: HeldValues, channel: str) -> Quality:
    return Quality(held.snapshot()[1][0, INDEX[channel]])


def test_lifecycle_of_a_channel_quality() -> None:
    clock = FakeClock(100.0)
    held = HeldValues(plant(), clock=clock)
    rows, cols = slots(held)
    values, quality = held.snapshot()
    assert quality[0, INDEX["flow"]] == C and quality[0, INDEX["vib_de"]] == N  # nothing heard yet / unmapped
    assert np.isnan(values).all()
    held.store(0, rows, cols, [12.5, math.nan], [True, False])
    values, quality = held.snapshot()
    assert (quality[0, INDEX["flow"]], quality[0, INDEX["pressure"]]) == (G, B)
    assert values[0, INDEX["flow"]] == 12.5 and np.isnan(values[0, INDEX["pressure"]])
    clock.t += 2.0  # exactly 2 poll intervals: still fresh
    assert q_of(held, "flow") == G
    clock.t += 0.01  # older than 2 intervals, device silent as long: COMM_FAIL
    assert q_of(held, "flow") == C
    held.device_answered(0)  # the device answers other requests, this value is not refreshed: STALE
    assert q_of(held, "flow") == S and np.isnan(held.snapshot()[0][0, INDEX["flow"]])
    held.store(0, rows, cols, [13.0, 2.0], [True, True])
    assert q_of(held, "flow") == G
    held.device_down(0)  # connection lost: COMM_FAIL at once, not after the stale window
    assert q_of(held, "flow") == C and q_of(held, "pressure") == C
    assert device_lost(held.snapshot()[1][0])


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
