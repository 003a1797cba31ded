"""`python main.py --headless ...` as a user runs it: a real process, a real database, real output."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from app.store.database import integrity_ok, open_database

ROOT = Path(__file__).resolve().parent.parent


def run_main(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    return subprocess.run([sys.executable, "main.py", "--headless", "--db", str(tmp_path / "v.db"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_injected_cavitation_is_printed_and_run_ends_cleanly(tmp_path: Path) -> None:
    proc = run_main(tmp_path, "--simulate", "--pumps", "2", "--inject", "P-101:cavitation@10m", "--speed", "0",
                    "--duration", "30m")
    assert proc.returncode == 0, proc.stderr
    alarm_lines = [line for line in proc.stdout.splitlines() if line.startswith("ALARM")]
    assert alarm_lines and all(" P-101 " in line for line in alarm_lines), proc.stdout
    assert "top channels: vib" in alarm_lines[0]
    assert "done   3600 frames scored" in proc.stdout


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    bad_fault = run_main(tmp_path, "--simulate", "--inject", "P-101:meltdown@10m")
    assert bad_fault.returncode == 2 and "cavitation" in bad_fault.stderr  # lists the allowed kinds
    bad_pumps = run_main(tmp_path, "--simulate", "--pumps", "99")
    assert bad_pumps.returncode == 2 and "source.simulator.n_pumps" in bad_pumps.stderr
    bad_duration = run_main(tmp_path, "--simulate", "--duration", "ten minutes")
    assert bad_duration.returncode == 2 and "duration" in bad_duration.stderr


def test_sigkill_mid_run_leaves_a_sound_database(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "main.py", "--headless", "--simulate", "--db", str(tmp_path / "v.db"),
                                 "--inject", "P-101:seal_leak@6m", "--speed", "0"],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:  # kill while it is writing: after commissioning, during alarms
            if line.startswith("ALARM") or line.startswith("ready  2026-01-05 06:05:00  P-102"):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        db = open_database(tmp_path / "v.db")
        assert integrity_ok(db)
        db.dispose()


def test_gui_without_a_display_says_so_and_points_to_headless(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["VIGIL_LOGGING__DIR"] = str(tmp_path / "log")
    proc = subprocess.run([sys.executable, "main.py", "--simulate", "--db", str(tmp_path / "v.db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "no display" in proc.stderr and "--headless" in proc.stderr
