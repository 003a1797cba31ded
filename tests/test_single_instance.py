"""One Vigil per database and per serial port (app/instance_lock.py): a second `python main.py --headless` on the
same database or RS-485 line refuses with the holder's PID and command line and exit code 2; a lock left by a
killed process is taken over; the read-only tools (backup, export, doctor) still work beside the running engine."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.instance_lock import InUseError, serial_port_lock

ROOT = Path(__file__).resolve().parent.parent


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log"), "PYTHONPATH": str(ROOT)}


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """A headless engine that runs until stopped, returned once it is up (it printed its first line)."""
    proc = subprocess.Popen([sys.executable, "main.py", "--headless", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(tmp_path))
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("vigil  watching"), (first, proc.communicate(timeout=30)[1] if proc.poll() is not None
                                                     else "")
    return proc


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env(tmp_path))


@pytest.fixture
def first(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = start(tmp_path, "--simulate", "--speed", "1", "--db", str(tmp_path / "v.db"))
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def test_a_second_engine_on_the_same_database_is_refused_with_the_holder(first: subprocess.Popen[str],
                                                                         tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    second = run(tmp_path, "--headless", "--simulate", "--db", str(db))
    assert second.returncode == 2, second.stderr
    assert f"database {db} is in use by process {first.pid} (" in second.stderr
    assert "main.py --headless --simulate" in second.stderr and "Traceback" not in second.stderr
    assert (tmp_path / "v.db.lock").read_text().strip() == str(first.pid)


def test_the_read_only_tools_work_beside_the_running_engine(first: subprocess.Popen[str], tmp_path: Path) -> None:
    db = str(tmp_path / "v.db")
    (tmp_path / "stick").mkdir()
    backup = run(tmp_path, "backup", str(tmp_path / "b.db"), "--db", db)
    assert backup.returncode == 0, backup.stderr
    export = run(tmp_path, "export", "--from", "2026-01-01T00:00", "--to", "2026-12-31T00:00", "--dest",
                 str(tmp_path / "stick"), "--db", db, "--quiet", "--include", "alarms")
    assert export.returncode == 0, export.stderr
    doctor = run(tmp_path, "doctor", "--db", db)
    assert "in use" not in doctor.stdout + doctor.stderr and "Traceback" not in doctor.stderr


def test_a_lock_left_by_a_killed_engine_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    killed = start(tmp_path, "--simulate", "--speed", "1", "--db", str(db))
    killed.kill()
    killed.communicate(timeout=30)
    assert (tmp_path / "v.db.lock").exists()  # left behind, with the dead PID in it
    again = start(tmp_path, "--simulate", "--speed", "1", "--db", str(db))
    again.send_signal(signal.SIGINT)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert not (tmp_path / "v.db.lock").exists()  # given back at a clean stop


@pytest.fixture
def rtu_map(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The simulator's RTU register map pointed at a real pseudo-terminal."""
    master, slave = os.openpty()
    device = os.ttyname(slave)
    text = (ROOT / "resources" / "modbus" / "simulator-rtu.toml").read_text().replace("/tmp/vigil-ttyB", device)
    path = tmp_path / "rtu.toml"
    path.write_text(text)
    try:
        yield path, device
    finally:
        os.close(master)
        os.close(slave)


def test_a_second_engine_on_the_same_serial_port_is_refused_with_the_holder(tmp_path: Path,
                                                                            rtu_map: tuple[Path, str]) -> None:
    path, device = rtu_map
    holder = start(tmp_path, "--source", "modbus", "--modbus-map", str(path), "--db", str(tmp_path / "a.db"))
    try:
        second = run(tmp_path, "--headless", "--source", "modbus", "--modbus-map", str(path),
                     "--db", str(tmp_path / "b.db"))
        assert second.returncode == 2, second.stderr
        assert f"serial port {device} is in use by process {holder.pid} (" in second.stderr
        with pytest.raises(InUseError, match=f"process {holder.pid}"):  # minicom's convention: the PID in the file
            serial_port_lock(device).acquire()
    finally:
        holder.send_signal(signal.SIGINT)
        holder.communicate(timeout=60)
    lock = serial_port_lock(device).acquire()  # free again
    lock.release()
