"""Real peers for the Modbus tests: the simulator's server in its own process, a socat serial-line pair, and
small helpers to wait on conditions with a deadline (never sleep-then-assert)."""
from __future__ import annotations

import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import IO, Any

import pytest

from acquisition.modbus import RegisterMap, parse_register_map
from tests.support.waiting import free_port, wait_until  # noqa: F401 - the modbus tests import them from here

ROOT = Path(__file__).resolve().parents[3]
TCP_MAP = ROOT / "resources" / "modbus" / "simulator-tcp.toml"
RTU_MAP = ROOT / "resources" / "modbus" / "simulator-rtu.toml"
SOCAT = shutil.which("socat") or "/usr/bin/socat"

def have_socat() -> bool:
    return os.access(SOCAT, os.X_OK)


requires_socat = pytest.mark.skipif(
    not have_socat() and not os.environ.get("CI"),
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
        stdout = self.proc.stdout
        assert stdout is not None

        def read(out: IO[str] = stdout) -> None:
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
                                     f"{(self.workdir / f'simulator-{self.starts}.log').read_text()[-2000:]}"
                                     ) from None
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

    def __enter__(self) -> SimulatorServer:
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


# -- scripted peers that answer each request as a test says: hostile frames, then correct ones -----------------
def crc16(data: bytes) -> bytes:
    """Modbus RTU CRC, written here (not pymodbus's), little-endian on the wire."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


# An answer in a script: (kind, argument). Kinds (TCP and RTU unless noted):
#   good              the correct answer from the register bank
#   words, [w, ...]   a well-formed answer carrying these register words instead (as many as asked, padded)
#   raw, bytes        exactly these bytes
#   pdu, bytes        (TCP) a correct MBAP header (tid, unit, length) around this PDU; (RTU) unit + PDU + CRC
#   length, (n, b)    (TCP) an MBAP header claiming length n, then bytes b
#   other_tid         (TCP) the correct answer under another transaction id
#   other_unit        the correct answer from another unit / device id
#   exception, code   an exception response with this code
#   byte_count, n     a good answer whose byte count field says n
#   bad_crc           (RTU) the correct answer with a wrong CRC
#   truncated, n      the first n bytes of the correct answer
#   prefix, bytes     these bytes, then the correct answer
#   twice             the correct answer two times
#   silent            nothing
#   close             (TCP) close the connection
Answer = tuple[str, Any]


def _pdu_for(request_pdu: bytes, bank: list[int], kind: str, arg: Any) -> bytes:
    fc, addr, count = request_pdu[0], int.from_bytes(request_pdu[1:3], "big"), int.from_bytes(request_pdu[3:5], "big")
    if kind == "exception":
        return bytes([fc | 0x80, arg & 0xFF])
    words = bank[addr:addr + count]
    if kind == "words":
        words = (list(arg) + [0] * count)[:count]
    data = b"".join(int(w & 0xFFFF).to_bytes(2, "big") for w in words)
    n = (arg & 0xFF) if kind == "byte_count" else len(data)
    return bytes([fc, n]) + data


class ScriptedTcpPeer(threading.Thread):
    """A Modbus TCP server on a free loopback port whose answers follow ``script`` (see Answer), then are
    correct. Holding and input registers both read from ``bank``. A read starting at an address in
    ``silent_at`` is never answered (and takes no step of the script), for as long as the address is there."""

    def __init__(self, bank: list[int], unit: int = 1) -> None:
        super().__init__(daemon=True, name="scripted-tcp-peer")
        self.bank, self.unit = bank, unit
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.script: queue.Queue[Answer] = queue.Queue()
        self.served = 0  # scripted answers given so far
        self.silent_at: set[int] = set()
        self.stop = threading.Event()

    def load(self, script: list[Answer]) -> None:
        for step in script:
            self.script.put(step)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buf = b""
        with conn:
            while not self.stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 7 and len(buf) >= 6 + int.from_bytes(buf[4:6], "big"):
                    n = 6 + int.from_bytes(buf[4:6], "big")
                    request, buf = buf[:n], buf[n:]
                    if not self._answer(conn, request):
                        return

    def _answer(self, conn: socket.socket, request: bytes) -> bool:
        tid, unit, pdu = request[0:2], request[6], request[7:]
        if int.from_bytes(pdu[1:3], "big") in self.silent_at:
            return True
        try:
            kind, arg = self.script.get_nowait()
            self.served += 1
        except queue.Empty:
            kind, arg = "good", None

        def frame(body: bytes, t: bytes = tid, u: int = unit) -> bytes:
            return t + b"\x00\x00" + (len(body) + 1).to_bytes(2, "big") + bytes([u]) + body

        good = frame(_pdu_for(pdu, self.bank, "good", None))
        out = {
            "good": lambda: good, "twice": lambda: good + good, "silent": lambda: b"",
            "words": lambda: frame(_pdu_for(pdu, self.bank, "words", arg)),
            "exception": lambda: frame(_pdu_for(pdu, self.bank, "exception", arg)),
            "byte_count": lambda: frame(_pdu_for(pdu, self.bank, "byte_count", arg)),
            "raw": lambda: arg, "pdu": lambda: frame(arg),
            "length": lambda: tid + b"\x00\x00" + (arg[0] & 0xFFFF).to_bytes(2, "big") + bytes([unit]) + arg[1],
            "other_tid": lambda: frame(_pdu_for(pdu, self.bank, "good", None),
                                       t=((int.from_bytes(tid, "big") + 1) & 0xFFFF).to_bytes(2, "big")),
            "other_unit": lambda: frame(_pdu_for(pdu, self.bank, "good", None), u=(unit + 1) & 0xFF),
            "truncated": lambda: good[:arg], "prefix": lambda: arg + good,
        }
        if kind == "close":
            return False
        conn.sendall(out[kind]())
        return True

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.sock.close()


class ScriptedRtuSlave(threading.Thread):
    """Device ``unit`` on one end of a serial line, answering reads from ``bank`` as ``script`` says, then
    correctly. An independent RTU implementation: framing and CRC written here."""

    def __init__(self, tty: str, bank: list[int], unit: int = 1) -> None:
        super().__init__(daemon=True, name="scripted-rtu-slave")
        self.fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
        self.bank, self.unit = bank, unit
        self.script: queue.Queue[Answer] = queue.Queue()
        self.served = 0
        self.stop = threading.Event()

    def load(self, script: list[Answer]) -> None:
        for step in script:
            self.script.put(step)

    def run(self) -> None:
        buf = b""
        while not self.stop.is_set():
            if not select.select([self.fd], [], [], 0.05)[0]:
                buf = b""  # a pause on the line ends a frame
                continue
            buf += os.read(self.fd, 256)
            while len(buf) >= 8:
                request, buf = buf[:8], buf[8:]
                if crc16(request[:6]) == request[6:8]:
                    self._answer(request)

    def _answer(self, request: bytes) -> None:
        try:
            kind, arg = self.script.get_nowait()
            self.served += 1
        except queue.Empty:
            kind, arg = "good", None
        unit, pdu = request[0], request[1:6]

        def frame(body: bytes, u: int = unit) -> bytes:
            return bytes([u]) + body + crc16(bytes([u]) + body)

        good = frame(_pdu_for(pdu, self.bank, "good", None))
        out = {
            "good": lambda: good, "twice": lambda: good + good, "silent": lambda: b"",
            "words": lambda: frame(_pdu_for(pdu, self.bank, "words", arg)),
            "exception": lambda: frame(_pdu_for(pdu, self.bank, "exception", arg)),
            "byte_count": lambda: frame(_pdu_for(pdu, self.bank, "byte_count", arg)),
            "raw": lambda: arg, "pdu": lambda: frame(arg),
            "other_unit": lambda: frame(_pdu_for(pdu, self.bank, "good", None), u=(unit + 1) & 0xFF),
            "bad_crc": lambda: good[:-2] + bytes([good[-2] ^ 0x5A, good[-1]]),
            "truncated": lambda: good[:arg], "prefix": lambda: arg + good,
        }
        os.write(self.fd, out[kind]())

    def close(self) -> None:
        self.stop.set()
        self.join(2)
        os.close(self.fd)
