"""The systemd watchdog against a real NOTIFY_SOCKET: READY=1 once the engine runs, WATCHDOG=1 pings while every
worker makes progress, none once the detection thread hangs (then systemd would kill and restart the process),
STOPPING=1 at the end. The hang is real: an event listener that the detection thread calls blocks on an Event."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acquisition.simulator import PumpStation, StationConfig
from app import events
from app.config import load_settings
from app.engine import Engine
from app.heartbeat import Heartbeat
from app.watchdog import Liveness, ServiceWatchdog, notify, watchdog_interval
from tests.support.gated_source import GatedSource
from tests.support.notify_socket import NotifySocket, has, status_of

ROOT = Path(__file__).resolve().parents[2]
PING_USEC = 200_000  # WatchdogSec=0.2 s: a ping every 0.1 s


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


# -- the protocol -------------------------------------------------------------------------------------
def test_notify_sends_one_datagram_to_a_path_socket(notify_socket: NotifySocket) -> None:
    assert notify("READY=1\nSTATUS=up", notify_socket.env())
    assert notify_socket.receive(5) == ["READY=1", "STATUS=up"]


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"vigil-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"WATCHDOG=1"


@pytest.mark.parametrize("value", ["", "relative/path", "tcp://x"])
def test_no_or_a_bad_notify_socket_sends_nothing(value: str) -> None:
    assert notify("READY=1", {"NOTIFY_SOCKET": value} if value else {}) is False


def test_a_socket_that_is_gone_is_logged_not_raised(tmp_path: Path) -> None:
    assert notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "nobody")}) is False


@pytest.mark.parametrize(("env", "interval"), [
    ({"WATCHDOG_USEC": "30000000"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),  # ours (pid=4242 below)
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # a parent's watchdog, not ours
    ({"WATCHDOG_USEC": "0"}, None), ({"WATCHDOG_USEC": "soon"}, None), ({}, None)])
def test_ping_interval_is_half_of_watchdog_usec_when_the_watchdog_is_ours(env: dict, interval: float | None) -> None:
    assert watchdog_interval(env, pid=4242) == interval


# -- the rule for "hung" --------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_silent_worker_is_hung_after_its_allowance_and_a_finished_one_never() -> None:
    clock = FakeClock()
    live = Liveness()
    fast = live.watch("detection", Heartbeat(clock), 60)
    slow = live.watch("source", Heartbeat(clock), 60 + 2 * 60)  # a logger at one sample a minute
    clock.now += 59
    fast.beat()
    assert live.hung() == []
    clock.now += 61
    slow.beat()
    assert [h.reason for h in live.hung()] == ["detection made no progress for 61 s (allowed 60 s)"]
    fast.beat()
    clock.now += 179
    fast.beat()
    assert live.hung() == []  # the source's last beat was 179 s ago: within 60 + 2 x 60
    clock.now += 2
    assert [h.reason for h in live.hung()] == ["source made no progress for 181 s (allowed 180 s)"]
    slow.finished()  # a replay that reached its end is done, not hung
    assert live.hung() == []


def test_a_source_with_no_asset_yet_has_no_input_and_is_not_hung() -> None:
    clock = FakeClock()
    assets: list[str] = []
    live = Liveness()
    live.watch("source", Heartbeat(clock), 60, no_input=lambda: not assets)
    clock.now += 600  # an MQTT broker unreachable since the start: nothing to wait for, nothing stuck
    assert live.hung() == []
    assets.append("P-101")  # a first message named an asset: now silence is a hang again
    assert [h.name for h in live.hung()] == ["source"]


def test_a_dead_worker_thread_is_hung_at_once() -> None:
    live = Liveness()
    hb = live.watch("store", Heartbeat(), 60)
    t = threading.Thread(target=hb.beat)
    t.start()
    t.join()
    assert [(h.name, h.reason) for h in live.hung()] == [("store", "store thread died")]


def test_the_watchdog_pings_only_while_nothing_is_hung(notify_socket: NotifySocket) -> None:
    clock = FakeClock()
    live = Liveness()
    hb = live.watch("detection", Heartbeat(clock), 10)
    dog = ServiceWatchdog(live, notify_socket.env())
    assert dog.check() and notify_socket.receive(5) == ["WATCHDOG=1"]
    clock.now += 11
    assert not dog.check()
    assert status_of(notify_socket.receive(5) or []) == "hung: detection made no progress for 11 s (allowed 10 s)"
    clock.now += 5
    assert not dog.check()  # still hung: no ping, and the status is not repeated (only its seconds changed)
    assert notify_socket.receive(0.05) is None
    hb.beat()
    assert dog.check()
    assert notify_socket.receive(5) == ["STATUS=running"] and notify_socket.receive(5) == ["WATCHDOG=1"]


# -- the engine, in-process: a real hang of the detection thread ---------------------------------------------
def test_a_hung_detection_thread_stops_the_pings(notify_socket: NotifySocket, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in notify_socket.env(PING_USEC).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    station = PumpStation(StationConfig(n_pumps=1, seed=5, schedule=False), speed=30)
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "v.db")}, "logging": {"dir": str(tmp_path / "log")},
        "detection": {"baseline_s": 60, "baseline_samples": 30}, "engine": {"hang_after_s": 2}})
    engine = Engine(settings, station)
    blocked, release = threading.Event(), threading.Event()

    def hang_on_commissioning(ev: events.EngineEvent) -> None:  # called on the detection thread
        if isinstance(ev, events.CommissioningCompleted):
            blocked.set()
            release.wait(60)

    engine.subscribe(hang_on_commissioning)
    try:
        engine.start()
        assert status_of(notify_socket.wait_for(has("READY=1"), 10, "READY=1")) == "running: 1 asset(s) from simulator"
        for k in range(3):
            notify_socket.wait_for(has("WATCHDOG=1"), 5, f"watchdog ping {k + 1}")
        assert not blocked.is_set(), "commissioning came before three pings: the test proves nothing"
        assert blocked.wait(60), "the pump never finished commissioning"
        hung = notify_socket.wait_for(lambda m: (status_of(m) or "").startswith("hung"), 10, "a hung status")
        assert status_of(hung) is not None and "detection made no progress" in (status_of(hung) or "")
        assert "source" not in (status_of(hung) or "") and "store" not in (status_of(hung) or "")
        # systemd kills after WatchdogSec (0.2 s here) without a ping: wait five times that for a stray one
        assert notify_socket.receive(1.0) is None, "a ping came while the detection thread hung"
        release.set()
        notify_socket.wait_for(has("STATUS=running"), 10, "the recovered status")
        notify_socket.wait_for(has("WATCHDOG=1"), 5, "pings again once detection goes on")
    finally:
        release.set()
        engine.stop()
    notify_socket.wait_for(has("STOPPING=1"), 5, "STOPPING=1")


def test_a_hung_source_stops_the_pings(notify_socket: NotifySocket, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The source thread stuck inside its source (a read that never returns) is hung too."""
    for key, value in notify_socket.env(PING_USEC).items():
        monkeypatch.setenv(key, value)
    station = PumpStation(StationConfig(n_pumps=1, seed=5, schedule=False), speed=0)
    gated = GatedSource(station, station.config.start_ts + 30)
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "v.db")}, "logging": {"dir": str(tmp_path / "log")},
        "engine": {"hang_after_s": 1}})
    engine = Engine(settings, gated)
    try:
        engine.start()
        notify_socket.wait_for(has("READY=1"), 10, "READY=1")
        assert gated.reached.wait(30)
        hung = notify_socket.wait_for(lambda m: (status_of(m) or "").startswith("hung"), 10, "a hung status")
        assert "source made no progress" in (status_of(hung) or "") and "detection" not in (status_of(hung) or "")
        assert notify_socket.receive(1.0) is None
    finally:
        gated.go.set()
        engine.stop()


def test_without_notify_socket_the_engine_sends_nothing_and_starts_no_thread(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", str(PING_USEC))
    station = PumpStation(StationConfig(n_pumps=1, seed=5, schedule=False), speed=0, duration_s=60)
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "v.db")},
                                                     "logging": {"dir": str(tmp_path / "log")}})
    engine = Engine(settings, station)
    try:
        engine.start()
        assert engine.wait(60)
        assert not any(t.name == "vigil-watchdog" for t in threading.enumerate())
        assert engine.watchdog.pings == 0
    finally:
        engine.stop()


# -- the real process, as systemd starts it ------------------------------------------------------------
def _start_headless(tmp_path: Path, ns: NotifySocket) -> subprocess.Popen[str]:
    env = {**os.environ, **ns.env(PING_USEC), "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen([sys.executable, "main.py", "--headless", "--simulate", "--speed", "10",
                             "--db", str(tmp_path / "v.db")], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_headless_process_notifies_ready_pings_and_stopping(notify_socket: NotifySocket, tmp_path: Path) -> None:
    proc = _start_headless(tmp_path, notify_socket)
    try:
        notify_socket.wait_for(has("READY=1"), 60, "READY=1 from the headless process")
        for k in range(3):
            notify_socket.wait_for(has("WATCHDOG=1"), 5, f"watchdog ping {k + 1}")
        proc.send_signal(signal.SIGINT)  # Ctrl-C / systemctl stop's SIGTERM path ends in engine.stop() the same way
        notify_socket.wait_for(has("STOPPING=1"), 30, "STOPPING=1")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.stderr is not None
    proc.stderr.close()


def test_restart_after_a_watchdog_kill_is_ready_within_10_s(notify_socket: NotifySocket, tmp_path: Path) -> None:
    """What systemd does after WatchdogSec without a ping: SIGABRT (WatchdogSignal's default), then RestartSec, then
    a new process. systemd cannot run here (no PID 1 systemd in this container), so the test does the restart:
    kill -> new process READY=1 must leave room for the unit's RestartSec=2 within the 10 s budget."""
    first = _start_headless(tmp_path, notify_socket)
    second: subprocess.Popen[str] | None = None
    try:
        notify_socket.wait_for(has("READY=1"), 60, "READY=1 from the first process")
        killed = time.monotonic()
        first.send_signal(signal.SIGABRT)
        first.wait(10)
        second = _start_headless(tmp_path, notify_socket)
        notify_socket.wait_for(has("READY=1"), 60, "READY=1 from the restarted process")
        restart_s = notify_socket.times[-1] - killed
        restart_sec = 2.0  # packaging/systemd/*.service RestartSec
        assert restart_sec + restart_s <= 10.0, f"kill to READY=1 took {restart_s:.2f} s (+{restart_sec} s RestartSec)"
        print(f"watchdog kill -> READY=1 of the new process: {restart_s:.2f} s (+ RestartSec {restart_sec:g} s)")
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
            if p is not None and p.stderr is not None:
                p.stderr.close()
