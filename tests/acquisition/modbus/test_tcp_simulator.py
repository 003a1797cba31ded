"""The poller against the simulator's Modbus TCP server running in its own process (a real peer)."""
from __future__ import annotations

import logging
import queue
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from acquisition.modbus import ModbusPoller, ModbusSource, parse_register_map
from acquisition.quality import Quality
from acquisition.source import Frame
from tests.acquisition.modbus.peers import SimulatorServer, free_port, map_data, shipped_map, wait_until
from tests.acquisition.modbus.station_reference import matching_tick, station_values, tolerances

SPEED = 0.5  # a new tick every 2 s: most frames hold one tick only


def all_quality(poller: ModbusPoller, asset: str, q: Quality) -> bool:
    i = poller.plant.assets.index(asset)
    return bool((poller.held.snapshot()[1][i] == q).all())


def none_good(poller: ModbusPoller) -> bool:
    return not (poller.held.snapshot()[1] == Quality.GOOD).any()


def all_good(poller: ModbusPoller) -> bool:
    """Every mapped channel GOOD."""
    q = poller.held.snapshot()[1]
    return bool(((q == Quality.GOOD) | (q == Quality.NOT_CONFIGURED)).all())


class FrameCollector:
    """Runs a source's ``batches`` in a thread, as the engine does, and keeps every batch."""

    def __init__(self, source: ModbusSource) -> None:
        self.source = source
        self.batches: queue.Queue[tuple[float, list[Frame]]] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.source.batches(self.stop):
                self.batches.put((time.monotonic(), batch))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            self.error = exc

    def close(self) -> list:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive(), "batches() did not return within 5 s of stop"
        out = []
        while not self.batches.empty():
            out.append(self.batches.get())
        return out


def test_poller_reads_the_stations_engineering_values(tmp_path: Path) -> None:
    port = free_port()
    plant = shipped_map(port=port)
    with SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"], speed=SPEED) as server:
        collector = FrameCollector(ModbusSource(plant, frame_period_s=0.25))
        try:
            wait_until(lambda: all_good(collector.source.poller), 15, "every channel GOOD")
            first = collector.batches.qsize()
            wait_until(lambda: collector.batches.qsize() >= first + 8, 10, "8 more frame batches")
        finally:
            batches = collector.close()
        elapsed_plant_s = (time.monotonic() - server.started_at) * SPEED
    assert collector.error is None
    expected = station_values(plant, elapsed_plant_s + 5)
    tol = tolerances(plant)
    checked = 0
    for _, frames in batches[first:]:
        assert [f.asset for f in frames] == ["P-101", "P-102"]
        for i, f in enumerate(frames):
            assert f.quality is not None and (f.quality == Quality.GOOD).all(), f.quality
            k = matching_tick(f.values, f.quality, expected[:, i, :], tol[i])
            assert k is not None, f"{f.asset}: {f.values} matches no tick of {expected[:, i, :]}"
            checked += 1
    assert checked >= 16
    assert collector.source.stats.skipped == {}


def test_exception_response_makes_the_channel_bad_and_is_counted(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    data = map_data()
    for dev in data["device"]:
        dev["port"] = port
    # a register the server does not have: it answers "illegal data address"
    data["device"][0]["register"].append({"asset": "X-1", "channel": "flow", "table": "input", "address": 500,
                                          "type": "int16"})
    plant = parse_register_map(data)
    poller = ModbusPoller(plant)
    with caplog.at_level(logging.WARNING), SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"]):
        poller.start()
        try:
            wait_until(lambda: poller.stats.skipped.get("modbus_exception_response", 0) >= 3
                       and all_quality(poller, "P-101", Quality.GOOD), 15, "exception responses beside good reads")
            x = poller.held.snapshot()[1][plant.assets.index("X-1")]
        finally:
            poller.stop()
    assert x[7] == Quality.BAD  # it answered: BAD, not STALE or COMM_FAIL
    assert set(poller.stats.skipped) == {"modbus_exception_response"}
    assert any("exception 2 (illegal data address)" in r.getMessage() and "input 500..500" in r.getMessage()
               for r in caplog.records)


def test_a_dead_device_beside_a_live_one_does_not_slow_it(tmp_path: Path) -> None:
    live, refused = free_port(), free_port()
    blackhole = socket.socket()  # accepts connections (kernel backlog) and never answers
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)
    data = map_data()
    d101, d102 = data["device"]
    d101.update(port=live, poll_interval_s=0.1, timeout_s=0.5)
    d102.update(port=blackhole.getsockname()[1], poll_interval_s=0.1, timeout_s=0.5)
    d103 = dict(d102, name="pump-103", asset="P-103", port=refused, device_id=3)
    data["device"].append(d103)
    plant = parse_register_map(data)
    poller = ModbusPoller(plant)
    try:
        with SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{live}"]):
            poller.start()
            wait_until(lambda: all_quality(poller, "P-101", Quality.GOOD)
                       and all_quality(poller, "P-102", Quality.COMM_FAIL)
                       and all_quality(poller, "P-103", Quality.COMM_FAIL), 15, "live GOOD, dead COMM_FAIL")
            health = poller.health["pump-101"]
            polls0, late0, t0 = health.polls, len(health.lateness_s), time.monotonic()
            threading.Event().wait(3.0)  # a measurement window: the live device's poll rate over 3 s
            rate = (health.polls - polls0) / (time.monotonic() - t0)
            lateness = list(health.lateness_s)[late0:]
            assert all_quality(poller, "P-101", Quality.GOOD)
    finally:
        poller.stop()
        blackhole.close()
    assert rate >= 0.85 * 10, f"live device polled at {rate:.1f}/s, nominal 10/s"
    assert np.percentile(lateness, 99) < 0.1, f"p99 lateness {np.percentile(lateness, 99):.3f} s"
    assert poller.stats.skipped.get("modbus_timeout", 0) >= 3  # the silent one
    assert poller.stats.skipped.get("modbus_connect_failed", 0) >= 1  # the refused one
    assert "pump-103" in poller.health and not poller.health["pump-103"].connected


def test_server_killed_and_restarted_ten_times(tmp_path: Path) -> None:
    port = free_port()
    poll = 0.25
    plant = shipped_map(port=port, poll_interval_s=poll, timeout_s=0.2)
    server = SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"])
    server.start()
    collector = FrameCollector(ModbusSource(plant, frame_period_s=0.25))
    poller = collector.source.poller
    stale_delays, recoveries = [], []
    t_begin = time.monotonic()
    try:
        wait_until(lambda: all_good(poller), 15, "every channel GOOD")
        for _ in range(10):
            server.kill()
            t_kill = time.monotonic()
            stale_delays.append(wait_until(lambda: none_good(poller) and time.monotonic(), 5, "no GOOD value") - t_kill)
            t_up = server.start()
            recoveries.append(wait_until(lambda: all_good(poller) and time.monotonic(), 10, "GOOD again") - t_up)
    finally:
        batches = collector.close()
        server.kill(signal.SIGTERM)
    elapsed = time.monotonic() - t_begin
    assert collector.error is None
    assert max(stale_delays) <= 2 * poll + 0.15, stale_delays
    assert max(recoveries) <= 5.0, recoveries
    # the source kept its frame clock through every outage, with COMM_FAIL and NaN while down
    assert len(batches) >= 0.8 * elapsed / 0.25
    down = [f for _, frames in batches for f in frames if (f.quality == Quality.COMM_FAIL).all()]
    assert down and all(np.isnan(f.values).all() for f in down)
    skipped = collector.source.stats.skipped
    assert skipped.get("modbus_connection_lost", 0) + skipped.get("modbus_connect_failed", 0) >= 10


def test_a_hung_server_goes_stale_and_recovers(tmp_path: Path) -> None:
    port = free_port()
    poll = 0.25
    plant = shipped_map(port=port, poll_interval_s=poll, timeout_s=0.2)
    poller = ModbusPoller(plant)
    with SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"]) as server:
        poller.start()
        try:
            wait_until(lambda: all_good(poller), 15, "every channel GOOD")
            server.proc.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
            t_stop = time.monotonic()
            delay = wait_until(lambda: none_good(poller) and time.monotonic(), 5, "no GOOD value") - t_stop
            assert (poller.held.snapshot()[1] == Quality.COMM_FAIL).all()
            server.proc.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
            t_cont = time.monotonic()
            recovery = wait_until(lambda: all_good(poller) and time.monotonic(), 10, "GOOD again") - t_cont
        finally:
            poller.stop()
    assert delay <= 2 * poll + 0.15
    assert recovery <= 5.0
    assert poller.stats.skipped.get("modbus_timeout", 0) >= 1
