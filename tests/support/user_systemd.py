"""A real systemd service manager for the unit tests of packaging/systemd: ``systemd --user`` run as root.

This machine (a container) has no systemd as PID 1, but systemd's user manager runs here once it believes the system
was booted with systemd (``/run/systemd/system`` exists): that directory is made on a private tmpfs in a private
mount namespace (``unshare -m``), so the host's /run is never touched. ``systemctl --user`` talks to the manager over
its private socket in ``XDG_RUNTIME_DIR`` from outside the namespace.

The runtime directory is not under /tmp: the shipped unit's PrivateTmp=yes would hide the notify socket from the
service. A user manager cannot change users or apply every sandbox option a system manager can;
:func:`user_unit_from` says which lines of a shipped unit it drops and why.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.waiting import wait_until

SYSTEMD = Path("/usr/lib/systemd/systemd")
# A user manager cannot switch to another user (there is none to switch from) nor own /var/lib.
USER_SWITCHING = ("User", "Group", "SupplementaryGroups", "StateDirectory", "StateDirectoryMode")


def unavailable() -> str | None:
    """Why a user manager cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for /run/systemd/system)"
    for tool in (str(SYSTEMD), "systemctl", "systemd-run", "unshare"):
        if shutil.which(tool) is None and not Path(tool).exists():
            return f"{tool} is not installed (apt-get install systemd util-linux)"
    return None


@dataclass
class UserManager:
    runtime: Path
    config: Path
    proc: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime)}

    def systemctl(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["systemctl", "--user", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=check)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.systemctl("show", unit, *[f"--property={p}" for p in props]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def install_unit(self, name: str, text: str) -> None:
        (self.config / "systemd" / "user" / name).write_text(text)
        self.systemctl("daemon-reload")

    def option_works(self, option: str) -> bool:
        """Whether a transient service with this one sandbox option starts here (226/NAMESPACE when not)."""
        return subprocess.run(["systemd-run", "--user", "--wait", "--quiet", "-p", option, "/bin/true"],
                              env=self.env, capture_output=True, timeout=30).returncode == 0


@contextmanager
def user_manager(base: Path) -> Iterator[UserManager]:
    """A running ``systemd --user`` whose runtime and unit directories live under ``base``; stopped on exit."""
    runtime = Path(tempfile.mkdtemp(prefix="sd-run-", dir=base))
    config = Path(tempfile.mkdtemp(prefix="sd-cfg-", dir=base))
    (config / "systemd" / "user").mkdir(parents=True)
    os.chmod(runtime, 0o700)
    script = ("mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && "
              f"exec {SYSTEMD} --user")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(config),
           "SYSTEMD_LOG_TARGET": "console"}
    log = open(base / "user-manager.log", "wb")  # noqa: SIM115 - closed below, after the manager
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    manager = UserManager(runtime, config, proc)
    try:
        wait_until(lambda: (runtime / "systemd" / "private").is_socket() or proc.poll() is not None, 30,
                   "systemd --user's private socket")
        if proc.poll() is not None:
            raise RuntimeError(f"systemd --user ended at start: {(base / 'user-manager.log').read_text()[-2000:]}")
        # The socket is bound before the manager serves it: ready once a request is answered.
        wait_until(lambda: manager.systemctl("show", "--property=Version", check=False).returncode == 0, 30,
                   "systemd --user to answer on its private socket")
        yield manager
    finally:
        if proc.poll() is None:
            manager.systemctl("exit", check=False, timeout=30)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(10)
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(config, ignore_errors=True)


def user_unit_from(shipped: str, *, exec_start: str, data_dir: Path, unsupported: tuple[str, ...],
                   overrides: dict[str, str], environment: str = "") -> str:
    """The shipped unit's text as a user unit: every line kept except the user switching (see USER_SWITCHING), the
    sandbox options in ``unsupported`` (ones this machine's kernel/container refuses) and [Install]; ExecStart,
    WorkingDirectory and the /var/lib/vigil write path pointed at this test's files; ``overrides`` replace keys;
    ``environment``: one more Environment= line."""
    out: list[str] = []
    for line in shipped.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in USER_SWITCHING or key in unsupported or key == "WantedBy":
            continue
        if key == "ExecStart":
            line = f"ExecStart={exec_start}"
        elif key == "WorkingDirectory":
            line = f"WorkingDirectory={data_dir}"
        elif key == "ReadWritePaths" and "/var/lib/vigil" in line:
            line = f"ReadWritePaths={data_dir}"
        elif key in overrides:
            line = f"{key}={overrides[key]}"
        out.append(line)
        if line.strip() == "[Service]" and environment:
            out.append(f"Environment={environment}")
    return "\n".join(out) + "\n"


def sandbox_lines(shipped: str) -> list[str]:
    """The shipped unit's sandbox settings (``key=value`` lines of the hardening block) to probe one by one."""
    keys = ("Protect", "Private", "Restrict", "NoNewPrivileges", "LockPersonality", "SystemCallArchitectures",
            "CapabilityBoundingSet", "AmbientCapabilities", "DevicePolicy", "DeviceAllow", "UMask")
    return [line.strip() for line in shipped.splitlines() if line.strip().startswith(keys)]


ROOT = Path(__file__).resolve().parents[2]
ENGINE_UNIT = "vigil-engine.service"


def install_engine_unit(manager: UserManager, data: Path, watchdog_s: int) -> tuple[str, ...]:
    """packaging/systemd/vigil-engine.service as a user unit running this tree's engine on the simulator with its
    database in ``data``, ``WatchdogSec=watchdog_s`` and ``engine.hang_after_s`` 2 s; returns the sandbox options
    dropped because this machine refuses them."""
    shipped = (ROOT / "packaging" / "systemd" / ENGINE_UNIT).read_text()
    refused = tuple(line.split("=", 1)[0] for line in sandbox_lines(shipped) if not manager.option_works(line))
    text = user_unit_from(
        shipped, data_dir=data, unsupported=refused, overrides={"WatchdogSec": str(watchdog_s)},
        exec_start=f"{sys.executable} {ROOT / 'main.py'} --headless --simulate --speed 1 --db {data / 'v.db'}",
        environment=f"VIGIL_ENGINE__HANG_AFTER_S=2 VIGIL_LOGGING__DIR={data / 'log'} PYTHONPATH={ROOT}")
    manager.install_unit(ENGINE_UNIT, text)
    return refused


def restart_after_hang(manager: UserManager, timeout: float = 60) -> tuple[int, dict[str, str]]:
    """Stop the running engine's process (SIGSTOP: hung outright), wait until systemd has started a new one and it
    said READY=1; returns (the old pid, the unit's state after)."""
    props = ("MainPID", "NRestarts", "ActiveState", "ActiveEnterTimestampMonotonic", "ActiveExitTimestampMonotonic")
    before = manager.show(ENGINE_UNIT, *props)
    old_pid = int(before["MainPID"])
    os.kill(old_pid, signal.SIGSTOP)

    def restarted() -> dict[str, str] | None:
        state = manager.show(ENGINE_UNIT, *props)
        return state if state["ActiveState"] == "active" and int(state["NRestarts"]) > int(before["NRestarts"]) \
            else None

    return old_pid, wait_until(restarted, timeout, "systemd's watchdog to kill the hung engine and start it again")


def restart_seconds(state: dict[str, str]) -> float:
    """From leaving "active" (the watchdog's kill) to "active" again (the new engine's READY=1)."""
    return (int(state["ActiveEnterTimestampMonotonic"]) - int(state["ActiveExitTimestampMonotonic"])) / 1e6
