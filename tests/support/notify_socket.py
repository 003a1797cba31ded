"""A real sd_notify receiver, as systemd binds it: an AF_UNIX datagram socket whose path goes in $NOTIFY_SOCKET."""
from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


class NotifySocket:
    """Bound in a short temp dir (socket paths are limited to 107 bytes); ``messages`` are every datagram so far,
    each split into its ``KEY=value`` lines."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="vn", dir="/tmp")
        self.path = str(Path(self._dir.name) / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[list[str]] = []
        self.times: list[float] = []  # time.monotonic() at each message's arrival

    def env(self, watchdog_usec: int | None = None) -> dict[str, str]:
        out = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec is not None:
            out["WATCHDOG_USEC"] = str(watchdog_usec)
        return out

    def receive(self, timeout: float) -> list[str] | None:
        """The next datagram's lines, or None if none comes within ``timeout`` s."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        lines = data.decode().splitlines()
        self.messages.append(lines)
        self.times.append(time.monotonic())
        return lines

    def wait_for(self, pred: Callable[[list[str]], bool], timeout: float, what: str) -> list[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            lines = self.receive(left)
            if lines is not None and pred(lines):
                return lines
        raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}; got {self.messages[-8:]}")

    def close(self) -> None:
        self.sock.close()
        self._dir.cleanup()


def has(key_value: str) -> Callable[[list[str]], bool]:
    return lambda lines: key_value in lines


def status_of(lines: list[str]) -> str | None:
    return next((line[len("STATUS="):] for line in lines if line.startswith("STATUS=")), None)
