"""The systemd service watchdog (sd_notify protocol), without Qt and without a new dependency.

systemd passes ``$NOTIFY_SOCKET`` (a path, or an abstract socket when it starts with ``@``) to a ``Type=notify``
service; a message is one datagram of ``KEY=value`` lines (``man sd_notify``). Vigil sends ``READY=1`` once the
engine runs, ``STATUS=...`` lines for ``systemctl status``, ``WATCHDOG=1`` every ``WatchdogSec/2`` (``$WATCHDOG_USEC``
halved) and ``STOPPING=1`` on shutdown.

The pings are the point: they are sent ONLY while every watched worker (source, detection, store; the GUI thread in
the HMI) is alive and making progress. The rule for "hung" (:class:`Liveness`): a worker whose thread died, or whose
heartbeat (app/heartbeat.py) has been silent longer than its allowance. Detection, the store writer and the GUI beat
at every turn of their loops (at least every 0.5 s, idle or not), so their allowance is ``hang_after_s``. The source
thread beats once per batch, i.e. once per frame period: a data logger at one sample a minute beats every 60 s, so
its allowance is ``hang_after_s + 2 x`` the declared frame period (one slow or missed poll is tolerated, a source
silent for two whole periods more than that is stuck). A worker that finished normally (a replay reached its end)
is not hung, nor is a source silent while it knows no asset yet (MQTT ingest before the first message: no input).
Once the pings stop, systemd kills the process after ``WatchdogSec`` and ``Restart=`` starts it again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.heartbeat import Heartbeat

log = logging.getLogger(__name__)


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one sd_notify datagram; False (and nothing sent) when not run under a notify-aware supervisor."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    target = "\0" + address[1:] if address[0] == "@" else address  # '@' = Linux abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode("utf-8", "replace"), target)
        return True
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", address, exc)
        return False


def watchdog_interval(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of ``$WATCHDOG_USEC``), or None when no watchdog is asked of us."""
    env = os.environ if environ is None else environ
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None  # the watchdog is some other process's (a parent's)
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


@dataclass(frozen=True, slots=True)
class Watched:
    name: str
    heartbeat: Heartbeat
    allowance_s: float  # silent longer than this: hung
    no_input: Callable[[], bool] | None = None  # True: nothing can come in yet, so silence is not a hang


@dataclass(frozen=True, slots=True)
class Hang:
    name: str  # the worker
    reason: str  # "detection made no progress for 75 s (allowed 60 s)"


class Liveness:
    """The workers the watchdog vouches for, and the one rule that says which of them are hung."""

    def __init__(self) -> None:
        self._watched: list[Watched] = []

    def watch(self, name: str, heartbeat: Heartbeat, allowance_s: float,
              no_input: Callable[[], bool] | None = None) -> Heartbeat:
        self._watched.append(Watched(name, heartbeat, allowance_s, no_input))
        return heartbeat

    def hung(self) -> list[Hang]:
        """Each hung worker and why (empty: every worker is alive and making progress)."""
        out = []
        for w in self._watched:
            hb = w.heartbeat
            if hb.done:
                continue
            if hb.thread is not None and not hb.thread.is_alive():
                out.append(Hang(w.name, f"{w.name} thread died"))
            elif (silent := hb.silent_for()) > w.allowance_s and not (w.no_input is not None and w.no_input()):
                out.append(Hang(w.name, f"{w.name} made no progress for {silent:.0f} s (allowed {w.allowance_s:g} s)"))
        return out


class ServiceWatchdog:
    """READY/STATUS/WATCHDOG/STOPPING to systemd; a daemon thread pings only while ``liveness`` finds no hang."""

    def __init__(self, liveness: Liveness, environ: Mapping[str, str] | None = None) -> None:
        self.liveness = liveness
        self._env = dict(os.environ if environ is None else environ)
        self.interval_s = watchdog_interval(self._env)
        self.pings = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: tuple[str, ...] = ()  # the names of the hung workers last reported

    @property
    def enabled(self) -> bool:
        return bool(self._env.get("NOTIFY_SOCKET"))

    def ready(self, status: str) -> None:
        """The engine runs: READY=1, and the pings start (when systemd asked for them)."""
        if not self.enabled:
            return
        notify(f"READY=1\nSTATUS={status}", self._env)
        if self.interval_s is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vigil-watchdog", daemon=True)
            self._thread.start()

    def stopping(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        if self.enabled:
            notify("STOPPING=1\nSTATUS=stopping", self._env)

    def check(self) -> bool:
        """One watchdog beat: ping if nothing is hung; otherwise report the hang (once per change) and stay silent."""
        hung = self.liveness.hung()
        names = tuple(h.name for h in hung)
        if names != self._reported:  # a change of who is hung, not of how many seconds
            self._reported = names
            if hung:
                why = "; ".join(h.reason for h in hung)
                log.error("watchdog: not vouching for the engine (systemd will restart it): %s", why)
                notify(f"STATUS=hung: {why}", self._env)
            else:
                log.warning("watchdog: every worker makes progress again")
                notify("STATUS=running", self._env)
        if hung:
            return False
        notify("WATCHDOG=1", self._env)
        self.pings += 1
        return True

    def _run(self) -> None:
        assert self.interval_s is not None
        while not self._stop.wait(self.interval_s):
            self.check()
