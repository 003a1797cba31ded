"""The source's frame clock with no device answering, the simulator's command line, and the engine on a
Modbus plant."""
from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from acquisition.modbus import ModbusSource
from acquisition.quality import Quality, device_lost
from acquisition.source import Frame
from tests.acquisition.modbus.peers import (
    ROOT,
    SimulatorServer,
    free_port,
    map_data,
    shipped_map,
    wait_until,
    write_map,
)


def test_frames_keep_coming_when_no_device_answers_and_stop_is_prompt() -> None:
    source = ModbusSource(shipped_map(port=free_port()), frame_period_s=0.1)  # nothing listens there
    stop = threading.Event()
    got: queue.Queue[tuple[float, list[Frame]]] = queue.Queue()

    def run() -> None:
        for batch in source.batches(stop):
            got.put((time.monotonic(), batch))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    stamps = []
    for _ in range(10):
        ts, batch = got.get(timeout=2)
        stamps.append(ts)
        assert [f.asset for f in batch] == ["P-101", "P-102"]
        for f in batch:
            assert f.quality is not None  # field sources always set it
            assert (f.quality == Quality.COMM_FAIL).all() and np.isnan(f.values).all() and device_lost(f.quality)
    assert 0.05 < np.median(np.diff(stamps)) < 0.2
    t_stop = time.monotonic()
    stop.set()
    t.join(2)
    assert not t.is_alive() and time.monotonic() - t_stop < 1.0
    assert source.stats.skipped.get("modbus_connect_failed", 0) >= 2
    assert source.stats.frames >= 20


def test_duration_ends_the_source() -> None:
    source = ModbusSource(shipped_map(port=free_port()), frame_period_s=0.1, duration_s=0.5)
    batches = list(source.batches(threading.Event()))
    assert 4 <= len(batches) <= 5


def run_simulator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "acquisition.simulator", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args,expected", [
    (["--modbus-tcp", "localhost"], "expected HOST:PORT with a port 1..65535"),
    (["--modbus-tcp", "127.0.0.1:5020", "--speed", "0"], "--speed must be > 0"),
    (["--modbus-tcp", "127.0.0.1:5020", "--map", "nowhere.toml"], "register map not found"),
    (["--modbus-tcp", "127.0.0.1:5020", "--inject", "P-999:cavitation@1m"], "fault on unknown asset 'P-999'"),
])
def test_simulator_cli_errors_say_what_is_wrong(args: list[str], expected: str) -> None:
    proc = run_simulator(*args)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr


def test_simulator_refuses_a_map_with_shared_device_ids(tmp_path: Path) -> None:
    data = map_data()
    data["device"][1]["device_id"] = 1
    data["device"][1]["port"] = 5021
    proc = run_simulator("--modbus-tcp", f"127.0.0.1:{free_port()}", "--map", str(write_map(data, tmp_path / "m.toml")))
    assert proc.returncode == 2 and "device ids must be distinct" in proc.stderr


def test_simulator_reports_a_busy_port(tmp_path: Path) -> None:
    port = free_port()
    with SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"]):
        proc = run_simulator("--modbus-tcp", f"127.0.0.1:{port}")
    assert proc.returncode == 1 and "serving" not in proc.stdout and "cannot serve on tcp" in proc.stderr


def test_engine_runs_on_the_modbus_plant_and_survives_an_outage(tmp_path: Path) -> None:
    from app import events
    from app.config import load_settings
    from app.engine import Engine

    port = free_port()
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "vigil.db")},
                                                    "logging": {"dir": str(tmp_path / "log")}})
    source = ModbusSource(shipped_map(port=port, poll_interval_s=0.2, timeout_s=0.2), frame_period_s=0.2)
    engine = Engine(settings, source)
    seen: queue.Queue = queue.Queue()
    engine.subscribe(seen.put)
    server = SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"])
    server.start()
    engine.start()
    try:
        wait_until(lambda: engine.frames_processed >= 20, 20, "20 frames scored")
        server.kill()
        n = engine.frames_processed
        wait_until(lambda: engine.frames_processed >= n + 10, 10, "frames scored while the plant is down")
        server.start()
        n = engine.frames_processed
        wait_until(lambda: engine.frames_processed >= n + 10, 10, "frames scored after the plant is back")
        assert engine.snapshot().source.ok
    finally:
        engine.stop()
        server.kill()
    kinds = []
    while not seen.empty():
        kinds.append(type(seen.get()))
    assert events.WorkerFailed not in kinds and events.AlarmRaised not in kinds
