"""Modbus RTU over a real serial line pair (socat pseudo-terminals): the simulator's RTU server on one end, and
a scripted slave that answers with garbage, wrong CRCs, truncated frames and exception responses."""
from __future__ import annotations

import logging
import os
import select
import struct
import threading
import time
from pathlib import Path

import pytest

from acquisition.modbus import ModbusPoller, ModbusSource, parse_register_map
from acquisition.quality import Quality
from tests.acquisition.modbus.peers import RTU_MAP, SimulatorServer, SocatPair, requires_socat, shipped_map, wait_until
from tests.acquisition.modbus.station_reference import matching_tick, station_values, tolerances
from tests.acquisition.modbus.test_tcp_simulator import FrameCollector, all_good

pytestmark = requires_socat


@pytest.fixture
def line():
    pair = SocatPair()
    yield pair
    pair.close()


def test_poller_reads_the_station_through_the_rtu_server(tmp_path: Path, line: SocatPair) -> None:
    plant = shipped_map(RTU_MAP, serial_port=line.b)
    with SimulatorServer(tmp_path, ["--modbus-rtu", line.a], map_path=RTU_MAP, speed=0.5) as server:
        collector = FrameCollector(ModbusSource(plant, frame_period_s=0.25))
        try:
            wait_until(lambda: all_good(collector.source.poller), 15, "every channel GOOD over RTU")
            first = collector.batches.qsize()
            wait_until(lambda: collector.batches.qsize() >= first + 6, 10, "6 more frame batches")
        finally:
            batches = collector.close()
        elapsed_plant_s = (time.monotonic() - server.started_at) * 0.5
    expected, tol = station_values(plant, elapsed_plant_s + 5), tolerances(plant)
    for _, frames in batches[first:]:
        for i, f in enumerate(frames):
            assert (f.quality == Quality.GOOD).all()
            assert matching_tick(f.values, f.quality, expected[:, i, :], tol[i]) is not None, (f.asset, f.values)
    assert collector.source.stats.skipped == {}
    assert all(h.reads_ok >= 2 for h in collector.source.poller.health.values())  # both slaves on the one line


# -- a scripted slave: an independent RTU implementation (CRC and framing written here) -----------------------
def crc16(data: bytes) -> bytes:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


class ScriptedSlave(threading.Thread):
    """Device 1 on the line, holding registers 0..3 = two float32 (ABCD): 12.5 and 4.25. Answers each request
    as the next step of ``script`` says, then correctly."""

    WORDS = list(struct.unpack(">4H", struct.pack(">2f", 12.5, 4.25)))

    def __init__(self, tty: str, script: list[str]) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
        self.script = list(script)
        self.served: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        buf = b""
        while not self.stop.is_set():
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            buf += os.read(self.fd, 256)
            while len(buf) >= 8:
                request, buf = buf[:8], buf[8:]
                self.answer(request)

    def answer(self, request: bytes) -> None:
        dev, fc, addr, count = struct.unpack(">BBHH", request[:6])
        step = self.script.pop(0) if self.script else "good"
        self.served.append(step)
        body = bytes([dev, fc, 2 * count]) + b"".join(struct.pack(">H", w) for w in self.WORDS[addr:addr + count])
        good = body + crc16(body)
        out = {
            "good": good,
            "bad_crc": good[:-2] + bytes([good[-2] ^ 0x5A, good[-1]]),
            "garbage": b"\x55\xaa\x13\x37\xde\xad\xbe\xef\x00\xff",
            "truncated": good[:5],
            "exception": bytes([dev, fc | 0x80, 2]) + crc16(bytes([dev, fc | 0x80, 2])),
            "silent": b"",
            "noise_after": good,
        }[step]
        os.write(self.fd, out)
        if step == "noise_after":  # noise on the line once the answer is through: stray bytes before the next request
            self.stop.wait(0.03)
            os.write(self.fd, b"\x00\xff\x00")

    def close(self) -> None:
        self.stop.set()
        self.join(2)
        os.close(self.fd)


def test_line_faults_are_counted_logged_and_survived(line: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    plant = parse_register_map({"device": [{
        "name": "skid-7", "transport": "rtu", "serial_port": line.b, "baudrate": 19200, "parity": "N", "device_id": 1,
        "poll_interval_s": 0.1, "timeout_s": 0.15, "asset": "R-1", "reconnect_min_s": 0.05, "reconnect_max_s": 0.1,
        "register": [{"channel": "flow", "table": "holding", "address": 0, "type": "float32"},
                     {"channel": "pressure", "table": "holding", "address": 2, "type": "float32"}]}]})
    script = ["good", "bad_crc", "good", "garbage", "good", "truncated", "good", "exception", "good", "silent",
              "noise_after"]
    slave = ScriptedSlave(line.a, script)
    slave.start()
    poller = ModbusPoller(plant)
    try:
        with caplog.at_level(logging.WARNING):
            poller.start()
            wait_until(lambda: len(slave.served) >= len(script) + 2 and all_good(poller), 20,
                       "the whole script served and good values again")
            values, quality = poller.held.snapshot()
    finally:
        poller.stop()
        slave.close()
    assert values[0, 7] == 12.5 and values[0, 3] == 4.25
    assert poller.stats.skipped == {"modbus_crc_error": 1, "modbus_garbage": 2, "modbus_truncated_frame": 1,
                                    "modbus_exception_response": 1, "modbus_timeout": 1}
    text = "\n".join(r.getMessage() for r in caplog.records)
    for cause in ("crc error", "garbage", "truncated frame", "exception 2 (illegal data address)", "timeout"):
        assert "modbus device 'skid-7': " in text and cause in text, cause
    assert "55 aa 13 37" in text  # the bytes that came back are in the log, for whoever chases the cable
