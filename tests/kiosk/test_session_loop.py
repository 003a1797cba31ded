"""The kiosk's crash-restart loop (packaging/kiosk/vigil-session-loop), run for real with stand-in commands: a
crash is restarted after a growing pause, a run of quick crashes ends in words (not a black screen), a normal
exit ends the session, and systemd's watchdog variables reach the HMI so that it pings as the unit's child."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.kiosk.conftest import KIOSK

LOOP = str(KIOSK / "vigil-session-loop")


def run_loop(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "NOTIFY_SOCKET", "WATCHDOG_PID")}
    return subprocess.run([LOOP], env={**base, "VIGIL_COMMAND": command, "VIGIL_BACKOFF_MAX_S": "0", **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_quick_crashes_are_restarted_then_given_up_in_words(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    done = run_loop(tmp_path, f"sh -c 'echo x >> {count}; exit 3'", VIGIL_MAX_QUICK_CRASHES="4")
    assert done.returncode == 1
    assert count.read_text().count("x") == 4  # started four times, then no more
    assert "quick crash 4 of 4" in done.stderr
    assert "Vigil could not start" in done.stderr and "Alarms are NOT being watched" in done.stderr
    assert "last status 3" in done.stderr


def test_a_crash_then_a_good_run_is_restarted_and_a_normal_exit_ends_the_session(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    # crashes twice, then ends normally (an admin left kiosk mode)
    script = f"sh -c 'echo x >> {count}; test $(wc -l < {count}) -ge 3'"
    done = run_loop(tmp_path, script, VIGIL_MAX_QUICK_CRASHES="5")
    assert done.returncode == 0, done.stderr
    assert count.read_text().count("x") == 3
    assert "restarting in 0 s" in done.stderr and "session over" in done.stderr


def test_the_pause_between_restarts_doubles_up_to_its_limit(tmp_path: Path) -> None:
    done = run_loop(tmp_path, "false", VIGIL_MAX_QUICK_CRASHES="4", VIGIL_BACKOFF_MAX_S="2")
    pauses = [line.rsplit(" ", 2)[-2] for line in done.stderr.splitlines() if "restarting in" in line]
    assert pauses == ["1", "2", "2"]


def test_under_systemd_the_loop_leaves_the_giving_up_to_systemd(tmp_path: Path) -> None:
    done = run_loop(tmp_path, "false", VIGIL_MAX_QUICK_CRASHES="1", NOTIFY_SOCKET=str(tmp_path / "notify"),
                    DISPLAY=":999")
    assert done.returncode == 1 and "Vigil could not start" in done.stderr  # no xmessage waiting for a touch


def test_the_hmi_gets_the_notify_socket_but_not_the_parents_watchdog_pid(tmp_path: Path) -> None:
    out = tmp_path / "env"
    done = run_loop(tmp_path, f"sh -c 'env > {out}'", NOTIFY_SOCKET="/run/systemd/notify", WATCHDOG_USEC="30000000",
                    WATCHDOG_PID="1")
    assert done.returncode == 0
    seen = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    assert seen["NOTIFY_SOCKET"] == "/run/systemd/notify" and seen["WATCHDOG_USEC"] == "30000000"
    assert "WATCHDOG_PID" not in seen  # systemd's main PID is cage/xinit: Vigil pings as the unit's child
