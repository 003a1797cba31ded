"""The shipped engine unit under a real systemd: started as Type=notify (READY=1 from the engine), and restarted by
systemd's watchdog when the engine hangs. The hang is the whole process stopped (SIGSTOP: every thread hung, as on a
stuck I/O); that one hung worker alone stops the pings is tested against a real NOTIFY_SOCKET in
tests/app/test_watchdog*.py. The restart time is printed here and measured by bench/bench_restart.py.

systemd runs as a user manager (tests/support/user_systemd.py): the unit's service-management lines are the shipped
ones; user switching and the sandbox options this container refuses (probed, named in the output) are dropped.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.user_systemd import (
    ENGINE_UNIT,
    ROOT,
    UserManager,
    install_engine_unit,
    restart_after_hang,
    restart_seconds,
    unavailable,
    user_manager,
)

WATCHDOG_S = 3  # the shipped 30 s would make a slow test; the mechanism is the same

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture(scope="module")
def manager() -> Iterator[UserManager]:
    (ROOT / "var").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="systemd-test-", dir=ROOT / "var"))  # not /tmp: PrivateTmp=yes
    data = base / "data"
    data.mkdir()
    try:
        with user_manager(base) as running:
            refused = install_engine_unit(running, data, WATCHDOG_S)
            print(f"sandbox options this machine refuses (dropped for the test): {refused or 'none'}")
            yield running
            running.systemctl("stop", ENGINE_UNIT, check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_systemd_starts_the_engine_when_it_says_ready(manager: UserManager) -> None:
    manager.systemctl("start", ENGINE_UNIT, timeout=150)  # Type=notify: returns once READY=1 came (or fails)
    state = manager.show(ENGINE_UNIT, "ActiveState", "SubState", "MainPID", "Type", "WatchdogUSec", "Restart")
    assert (state["ActiveState"], state["SubState"]) == ("active", "running"), state
    assert (state["Type"], state["Restart"], state["WatchdogUSec"]) == ("notify", "on-failure", f"{WATCHDOG_S}s")
    assert int(state["MainPID"]) > 1


def test_a_hung_engine_is_killed_by_the_watchdog_and_restarted(manager: UserManager) -> None:
    if manager.show(ENGINE_UNIT, "ActiveState")["ActiveState"] != "active":
        manager.systemctl("start", ENGINE_UNIT, timeout=150)
    old_pid, after = restart_after_hang(manager)
    # A stopped process sends nothing and ends by nothing but a signal from systemd: its watchdog's SIGABRT (with the
    # SIGCONT systemd sends after it). The new one is "active" only after its own READY=1 (Type=notify).
    assert int(after["MainPID"]) not in (0, old_pid)
    assert not Path(f"/proc/{old_pid}").exists() or "zombie" in Path(f"/proc/{old_pid}/status").read_text()
    print(f"watchdog kill -> the new engine's READY=1: {restart_seconds(after):.1f} s (RestartSec=2 included)")


def test_systemctl_stop_ends_the_engine_cleanly(manager: UserManager) -> None:
    if manager.show(ENGINE_UNIT, "ActiveState")["ActiveState"] != "active":
        manager.systemctl("start", ENGINE_UNIT, timeout=150)
    manager.systemctl("stop", ENGINE_UNIT, timeout=60)  # KillSignal=SIGINT: the engine flushes and exits
    state = manager.show(ENGINE_UNIT, "ActiveState", "Result", "ExecMainStatus", "ExecMainCode")
    assert (state["ActiveState"], state["Result"]) == ("inactive", "success"), state
