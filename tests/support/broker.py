"""A real Mosquitto broker for tests: started on a free loopback port, stoppable and restartable on that port.

    with MosquittoBroker(tmp_path) as broker:        # plain
        ...broker.host, broker.port...
        broker.stop(signal.SIGKILL); broker.start()   # an outage: same port, same persistence file

TLS: ``MosquittoBroker(tmp_path, tls=TlsFiles(ca, cert, key), require_client_cert=True)``.
Persistence is on (QoS 1 sessions and queued messages survive a restart after SIGTERM; SIGKILL loses what the
broker had not yet saved, as on a real broker).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.waiting import free_port  # re-exported for the tests that use it here

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def have_mosquitto() -> bool:
    return os.access(MOSQUITTO, os.X_OK)


requires_mosquitto = pytest.mark.skipif(
    not have_mosquitto() and not os.environ.get("CI"),
    reason="mosquitto not installed (make test installs it: apt-get install mosquitto mosquitto-clients)",
)


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


class MosquittoBroker:
    def __init__(self, workdir: Path, port: int | None = None, tls: TlsFiles | None = None,
                 require_client_cert: bool = False, password_file: Path | None = None,
                 extra_conf: str = "") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / f"mosquitto-{self.port}.log"
        lines = [
            f"listener {self.port} {self.host}",
            "persistence true",
            f"persistence_location {self.workdir}/",
            f"persistence_file mosquitto-{self.port}.db",
            "autosave_interval 1",
            "max_queued_messages 0",  # 0 = no limit: a test subscriber offline for a while must not lose QoS 1
            "max_inflight_messages 100",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"log_dest file {self.log_path}",
        ]
        if os.geteuid() == 0:  # as root mosquitto drops to user 'mosquitto', which cannot read pytest's tmp dirs
            lines.append("user root")
        if password_file is not None:
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        if tls is not None:
            lines += [f"cafile {tls.ca}", f"certfile {tls.cert}", f"keyfile {tls.key}",
                      f"require_certificate {'true' if require_client_cert else 'false'}", "tls_version tlsv1.2"]
        if extra_conf:
            lines.append(extra_conf)
        self.conf_path = self.workdir / f"mosquitto-{self.port}.conf"
        self.conf_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf_path)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}\n{log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)  # polling a port that is not open yet; not a test wait
        raise RuntimeError(f"mosquitto did not open {self.host}:{self.port} within {timeout} s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(signal.SIGKILL)


@pytest.fixture
def broker(tmp_path: Path):
    """A plain broker on a free port, for one test."""
    if not have_mosquitto():
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed: `make test` should have installed it")
        pytest.skip("mosquitto not installed")
    with MosquittoBroker(tmp_path / "broker") as b:
        yield b


def make_tls_files(workdir: Path, client: bool = True) -> tuple[TlsFiles, TlsFiles | None]:
    """A throw-away CA, a server certificate for 127.0.0.1/localhost and (optionally) a client certificate,
    made with the openssl command line. Returns (server files, client files)."""
    workdir.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, cwd=workdir, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vigil-test-ca",
        "-keyout", "ca.key", "-out", "ca.crt")
    (workdir / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out",
        "server.csr")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.cnf", "-out", "server.crt")
    server = TlsFiles(workdir / "ca.crt", workdir / "server.crt", workdir / "server.key")
    if not client:
        return server, None
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=vigil-gateway", "-keyout", "client.key", "-out",
        "client.csr")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-out", "client.crt")
    return server, TlsFiles(workdir / "ca.crt", workdir / "client.crt", workdir / "client.key")
