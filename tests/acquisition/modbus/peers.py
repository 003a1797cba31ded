"""Real peers for the Modbus tests: the simulator's server in its own process, a socat serial-line pair, and
small helpers to wait on conditions with a deadline (never sleep-then-assert)."""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acquisition.modbus import RegisterMap, parse_register_map
from tests.support.waiting import free_port, wait_until  # noqa: F401 - the modbus tests import them from here

ROOT = Path(__file__).resolve().parents[3]
TCP_MAP = ROOT / "resources" / "modbus" / "simulator-tcp.toml"
RTU_MAP = ROOT / "resources" / "modbus" / "simulator-rtu.toml"
SOCAT = shutil.which("socat") or "/usr/bin/socat"

requires_socat = pytest.mark.skipif(
    not os.access(SOCAT, os.X_OK) and not os.environ.get("CI"),
    reason="socat not installed (make test installs it: apt-get install socat)",
)


def map_data(path: Path = TCP_MAP) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def shipped_map(path: Path = TCP_MAP, **device_overrides: Any) -> RegisterMap:
    """The shipped register map with keys of every device replaced (e.g. port=, serial_port=)."""
    data = map_data(path)
    for dev in data["device"]:
        dev.update(device_overrides)
    return parse_register_map(data, origin=f"{path.name} (test)")


def write_map(data: dict, path: Path) -> Path:
    """A register map document back to TOML (only what register maps use: tables, arrays, scalars)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in data.items() if k != "device"]
    for dev in data["device"]:
        lines += ["", "[[device]]"] + [f"{k} = {value(v)}" for k, v in dev.items() if k != "register"]
        for reg in dev["register"]:
            lines += ["[[device.register]]"] + [f"{k} = {value(v)}" for k, v in reg.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class SimulatorServer:
    """``python -m acquisition.simulator`` in its own process; ``start()`` returns once it is serving."""

    def __init__(self, workdir: Path, endpoint_args: list[str], map_path: Path = TCP_MAP, speed: float = 1.0,
                 seed: int = 0, extra: list[str] | None = None) -> None:
        self.args = [sys.executable, "-m", "acquisition.simulator", *endpoint_args, "--map", str(map_path),
                     "--speed", str(speed), "--seed", str(seed), *(extra or [])]
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0  # monotonic time the current process was launched
        self.starts = 0

    def start(self, timeout: float = 30.0) -> float:
        """Launch and wait for the "serving" line; returns the monotonic time it was printed."""
        self.starts += 1
        log = open(self.workdir / f"simulator-{self.starts}.log", "w")  # noqa: SIM115 - closed with the process
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        lines: queue.Queue[str] = queue.Queue()
        def read(out=self.proc.stdout) -> None:  # type: ignore[assignment]
            for x in out:
                lines.put(x)
            lines.put("")  # end of output: the process exited

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"simulator did not start serving within {timeout} s: "
                                     f"{(self.workdir / f'simulator-{self.starts}.log').read_text()[-2000:]}")
            if "serving" in line:
                return time.monotonic()
            if not line:
                self.proc.wait(10)
                raise AssertionError(f"simulator exited ({self.proc.returncode}) before serving: "
                                     f"{(self.workdir / f'simulator-{self.starts}.log').read_text()[-2000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> "SimulatorServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill(signal.SIGTERM)


class SocatPair:
    """A connected pair of pseudo-terminals: bytes written to one end come out of the other, as on a cable."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([SOCAT, "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"],
                                     stderr=subprocess.PIPE, text=True)
        names: list[str] = []
        deadline = time.monotonic() + 10
        while len(names) < 2:
            line = self.proc.stderr.readline()  # type: ignore[union-attr]
            if not line or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"socat did not report two ptys (got {names})")
            if m := re.search(r"PTY is (\S+)", line):
                names.append(m.group(1))
        self.a, self.b = names
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()  # type: ignore[union-attr]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
