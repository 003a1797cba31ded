"""`vigil doctor`'s sources check against real peers: the simulator's Modbus TCP server (one poll, each channel's
quality), a closed port and a server that never answers (the time limit honoured), serial ports that are missing
or held by another process (left alone, the holder named), and an MQTT ingest broker up and down."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.doctor import DoctorContext, Finding, Status, run_checks
from app.instance_lock import serial_port_lock
from tests.acquisition.modbus.peers import (
    RTU_MAP,
    TCP_MAP,
    SimulatorServer,
    SocatPair,
    free_port,
    map_data,
    requires_socat,
    write_map,
)
from tests.support.broker import MosquittoBroker, requires_mosquitto

ROOT = Path(__file__).resolve().parents[2]
PROBE_S = 0.5


def modbus_settings(tmp_path: Path, map_path: Path) -> Settings:
    return load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "source": {"kind": "modbus", "modbus": {"map": str(map_path)}}})


def tcp_map(tmp_path: Path, port: int, timeout_s: float = 1.0) -> Path:
    data = map_data(TCP_MAP)
    for dev in data["device"]:
        dev.update(port=port, timeout_s=timeout_s)
    return write_map(data, tmp_path / "plant-tcp.toml")


def sources(settings: Settings) -> list[Finding]:
    return run_checks(DoctorContext(settings, probe_s=PROBE_S), ["sources"])


def test_the_simulators_modbus_server_answers_and_every_channel_is_reported(tmp_path: Path) -> None:
    port = free_port()
    with SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"]):
        found = sources(modbus_settings(tmp_path, tcp_map(tmp_path, port)))
    devices = [f for f in found if f.message.startswith("device ")]
    assert [f.status for f in devices] == [Status.OK, Status.OK], found
    assert all("answered" in f.message and "register value(s) read" in f.message for f in devices)
    assets = {f.message.split(":")[0]: f for f in found if not f.message.startswith("device ")}
    assert set(assets) == {"P-101", "P-102"}
    for f in assets.values():  # one poll of a live station: every channel GOOD
        assert f.status is Status.OK and "all 8 channel(s) good" in f.message, f


def test_a_closed_port_is_a_problem_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    found = sources(modbus_settings(tmp_path, tcp_map(tmp_path, free_port())))
    took = time.monotonic() - started
    devices = [f for f in found if f.message.startswith("device ")]
    assert len(devices) == 2 and all(f.status is Status.PROBLEM and "not reachable" in f.message for f in devices)
    assert any("refused" in f.message.lower() for f in devices), devices
    channels = [f for f in found if f.message.startswith("P-10")]
    assert all(f.status is Status.PROBLEM and "comm-fail" in f.message for f in channels), channels
    assert took < 3, took


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers a request."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_a_device_that_never_answers_is_cut_off_by_the_probe_time_limit(tmp_path: Path, black_hole: int) -> None:
    plant = tcp_map(tmp_path, black_hole, timeout_s=30.0)  # the map's own time-out would hang the report
    started = time.monotonic()
    found = sources(modbus_settings(tmp_path, plant))
    took = time.monotonic() - started
    devices = [f for f in found if f.message.startswith("device ")]
    assert len(devices) == 2 and all(f.status is Status.PROBLEM for f in devices), found
    assert took < 4 * PROBE_S + 2, took  # one unanswered request (PROBE_S), the poller's stop, the report


def rtu_settings(tmp_path: Path, serial_port: str) -> Settings:
    data = map_data(RTU_MAP)
    for dev in data["device"]:
        dev["serial_port"] = serial_port
    return modbus_settings(tmp_path, write_map(data, tmp_path / "plant-rtu.toml"))


def test_a_missing_serial_port_is_a_problem_naming_it(tmp_path: Path) -> None:
    found = sources(rtu_settings(tmp_path, str(tmp_path / "ttyUSB-gone")))
    assert found[0].status is Status.PROBLEM and "ttyUSB-gone does not exist" in found[0].message
    assert not any(f.message.startswith("device ") for f in found)  # nothing probed


@pytest.fixture
def held_pty() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A pseudo-terminal whose UUCP lock another process holds (as a running engine or minicom would)."""
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from app.instance_lock import serial_port_lock; "
                             f"serial_port_lock({tty!r}).acquire(); print('held', flush=True); sys.stdin.read()"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield tty, proc
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
        os.close(slave)


def test_a_serial_port_held_by_another_process_is_left_alone_and_the_holder_named(
        tmp_path: Path, held_pty: tuple[str, subprocess.Popen[str]]) -> None:
    tty, holder = held_pty
    found = sources(rtu_settings(tmp_path, tty))
    port = [f for f in found if f.message.startswith("serial port")]
    assert len(port) == 1 and f"in use by process {holder.pid}" in port[0].message, found
    assert "not opened" in port[0].message and port[0].status is Status.WARNING  # a foreign program, not Vigil
    assert not any(f.message.startswith("device ") for f in found)  # not polled, not locked
    assert holder.poll() is None


def mqtt_settings(tmp_path: Path, port: int) -> Settings:
    text = (ROOT / "resources" / "mqtt" / "example.toml").read_text().replace("port = 1883", f"port = {port}")
    path = tmp_path / "ingest.toml"
    path.write_text(text)
    return load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "source": {"kind": "mqtt", "mqtt": {"map": str(path)}}})


@requires_mosquitto
def test_the_mqtt_ingest_broker_reachable_and_not(tmp_path: Path) -> None:
    with MosquittoBroker(tmp_path / "broker") as broker:
        found = sources(mqtt_settings(tmp_path, broker.port))
        assert [f.status for f in found] == [Status.OK] and "MQTT CONNECT accepted" in found[0].message, found
        port = broker.port
    found = sources(mqtt_settings(tmp_path, port))
    assert found[0].status is Status.PROBLEM and "not reachable" in found[0].message, found


def test_simulator_and_csv_need_nothing_reached(tmp_path: Path) -> None:
    base = {"storage": {"path": str(tmp_path / "vigil.db")}}
    found = sources(load_settings(environ={}, overrides=base))
    assert [f.status for f in found] == [Status.OK] and "simulator" in found[0].message
    csv = tmp_path / "plant.csv"
    found = sources(load_settings(environ={}, overrides={**base, "source": {"kind": "csv", "csv": {"path": str(csv)}}}))
    assert found[0].status is Status.PROBLEM and str(csv) in found[0].message


@requires_socat
def test_an_rtu_line_is_probed_under_its_lock_and_the_lock_given_back(tmp_path: Path) -> None:
    line = SocatPair()
    try:
        with SimulatorServer(tmp_path, ["--modbus-rtu", line.a], map_path=RTU_MAP, speed=0.5):
            found = run_checks(DoctorContext(rtu_settings(tmp_path, line.b), probe_s=1.0), ["sources"])
    finally:
        line.close()
    devices = [f for f in found if f.message.startswith("device ")]
    assert [f.status for f in devices] == [Status.OK, Status.OK], found  # both slaves on the one line
    assert not any(f.message.startswith("serial port") for f in found)
    assert all(f.status is not Status.PROBLEM for f in found), found
    assert not serial_port_lock(line.b).path.exists()  # the UUCP lock was taken for the probe and given back
