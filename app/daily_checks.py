"""The engine's daily health check: the checks of ``vigil doctor`` (app/doctor) on a timer of their own.

The first run comes ``engine.checks_first_after_s`` after start (start-up stays fast: the models check alone loads
LiteRT and runs 50 verdicts), then every ``engine.checks_every_s``. The checks run with ``ctx.live`` set, so the
source and broker checks read the engine's state instead of opening the devices and the broker session the engine
holds. The result is kept as a small :class:`ChecksSummary`: the snapshot carries it to the status bar, and the
uplink heartbeat carries :meth:`ChecksSummary.heartbeat_body` to the cloud.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.doctor import RANK, DoctorContext, Finding, Status, run_checks, worst

if TYPE_CHECKING:
    from app.live import EngineSnapshot

log = logging.getLogger(__name__)

MAX_TEXTS = 5  # problem texts in a heartbeat: enough to act on, small enough for a QoS 0 message
MAX_TEXT_CHARS = 200


def _escaped(text: str) -> str:
    """A finding's text may quote outside input (a broker's error, a device's answer): one escaped ASCII line."""
    return text.encode("unicode_escape").decode("ascii")[:MAX_TEXT_CHARS]


@dataclass(frozen=True, slots=True)
class ChecksSummary:
    ts: float  # wall clock of the run's end
    seconds: float  # how long the run took
    status: Status
    checks: dict[str, Status]  # the worst finding of each check, in report order
    problems: tuple[str, ...]  # "check: message" of each PROBLEM finding
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, findings: Sequence[Finding], ts: float, seconds: float) -> ChecksSummary:
        checks: dict[str, Status] = {}
        for f in findings:
            checks[f.check] = max(checks.get(f.check, Status.OK), f.status, key=RANK.__getitem__)
        return cls(ts, seconds, worst(findings), checks,
                   tuple(f"{f.check}: {f.message}" for f in findings if f.status is Status.PROBLEM),
                   tuple(f"{f.check}: {f.message}" for f in findings if f.status is Status.WARNING))

    @property
    def headline(self) -> str:
        """The status bar's words: "" when all is well."""
        if self.status is Status.PROBLEM:
            return f"HEALTH CHECK: {self.problems[0]}" + (f" (+{len(self.problems) - 1} more)"
                                                          if len(self.problems) > 1 else "")
        if self.status is Status.WARNING:
            return f"Health check: {self.warnings[0]}" + (f" (+{len(self.warnings) - 1} more)"
                                                          if len(self.warnings) > 1 else "")
        return ""

    def heartbeat_body(self) -> dict[str, Any]:
        """Small and escaped: the status of each check and the problem texts (docs/uplink.md, heartbeat)."""
        return {"status": self.status.value, "ts": round(self.ts, 1),
                "checks": {name: s.value for name, s in self.checks.items()},
                "problems": [_escaped(p) for p in self.problems[:MAX_TEXTS]]}


class DailyChecks:
    """``start()`` the timer thread; ``latest()`` is the last run's summary (None before the first)."""

    def __init__(self, settings: Settings, live: Callable[[], EngineSnapshot],
                 run: Callable[[DoctorContext], list[Finding]] = run_checks,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._ctx = DoctorContext(settings, live=live)
        self._run = run
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: ChecksSummary | None = None
        self.runs = 0

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="vigil-checks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Idempotent. A run in progress finishes on its own (daemon thread, each check time-limited)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def latest(self) -> ChecksSummary | None:
        return self._latest

    def heartbeat_body(self) -> dict[str, Any] | None:
        latest = self._latest
        return None if latest is None else latest.heartbeat_body()

    def run_now(self) -> ChecksSummary:
        started = time.monotonic()
        findings = self._run(self._ctx)
        summary = ChecksSummary.of(findings, self._clock(), time.monotonic() - started)
        self._latest = summary
        self.runs += 1
        if summary.status is Status.OK:
            log.info("daily health check: all %d checks passed (%.1f s)", len(summary.checks), summary.seconds)
        else:
            log.warning("daily health check: %s (%.1f s): %s", summary.status.value, summary.seconds,
                        "; ".join(_escaped(t) for t in (summary.problems or summary.warnings)))
        return summary

    def _loop(self) -> None:
        cfg = self.settings.engine
        if self._stop.wait(cfg.checks_first_after_s):
            return
        while True:
            try:
                self.run_now()
            except Exception:  # a bug in the runner must not end the daily checks (run_checks catches the checks')
                log.exception("the daily health check failed")
            if self._stop.wait(cfg.checks_every_s):
                return
