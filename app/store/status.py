"""The store writer's own account of its health: what is wrong now, what it is doing about it, and when it
recovered. Read by the engine's snapshot at 20-30 Hz (a locked copy, no database work).

A failed transaction is either a *store problem* that time can cure (the disk is full, another connection holds
the database, an I/O error) or a *refusal* of that one write (a constraint, a bug), which retrying cannot cure.
During a store problem the writer keeps alarm and operator writes in order and retries them, and sheds raw
samples; the problem is over once everything kept is written and commits succeed again.
"""
from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from common.throttled_log import ThrottledLog

log = logging.getLogger(__name__)


class StoreState(Enum):
    OK = "ok"
    FULL = "full"  # the disk (or the file system's quota) is full
    LOCKED = "locked"  # another connection has held the database longer than the busy timeout
    FAILING = "failing"  # another I/O problem: read-only file system, I/O error, file gone
    STOPPED = "stopped"  # the writer thread died (a bug): nothing is written until a restart


# What the operator is told, per state. Short first part for the status bar; the rest for the banner.
HEADLINE = {StoreState.FULL: "STORAGE FULL", StoreState.LOCKED: "STORAGE LOCKED",
            StoreState.FAILING: "STORAGE FAULT", StoreState.STOPPED: "STORAGE STOPPED"}
CONSEQUENCE = {
    StoreState.FULL: "samples not being recorded, alarms kept and retried",
    StoreState.LOCKED: "another program holds the database: samples not being recorded, alarms kept and retried",
    StoreState.FAILING: "samples not being recorded, alarms kept and retried",
    StoreState.STOPPED: "the store writer stopped: nothing is being recorded - restart Vigil",
}


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store part of the engine's snapshot (``EngineSnapshot.store``)."""

    state: StoreState = StoreState.OK
    since: float | None = None  # wall clock: when the current problem began (None while OK)
    held: int = 0  # alarm/operator writes kept in memory, waiting to be retried
    samples_shed: int = 0  # sample rows not recorded in the current (or the last) problem
    last_error: str | None = None  # the last failure's message (of the current or the last problem)
    recovered_ts: float | None = None  # wall clock: when the last problem ended (None if none yet)
    failures: int = 0  # failed attempts in the current (or the last) problem
    rows_dropped: int = 0  # sample rows not recorded since start
    rejected: int = 0  # writes refused for good (a constraint or a bug) since start

    @property
    def ok(self) -> bool:
        return self.state is StoreState.OK

    @property
    def headline(self) -> str:
        return HEADLINE.get(self.state, "Storage OK")

    @property
    def consequence(self) -> str:
        """What it means, e.g. "samples not being recorded, alarms kept and retried (3 waiting)"."""
        if self.state is StoreState.OK:
            return "storage OK"
        waiting = f" ({self.held} waiting)" if self.held else ""
        return f"{CONSEQUENCE[self.state]}{waiting}"

    @property
    def detail(self) -> str:
        """The operator's sentence, e.g. "STORAGE FULL: samples not being recorded, alarms kept and retried"."""
        return self.consequence if self.state is StoreState.OK else f"{self.headline}: {self.consequence}"


class CommitPending(Exception):
    """An operator command took effect but is not on disk yet: the store cannot commit now (disk full, locked)
    and the write is kept in memory and retried in order until it is. ``result`` is what the command returns
    once committed (the changed alarm, a count)."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result

    def with_result(self, result: object) -> CommitPending:
        return CommitPending(str(self), result)


class StoreUnavailable(Exception):
    """A write that may be shed (telemetry, outbox housekeeping) was dropped during a store problem, or a kept
    write could not be stored before the writer stopped."""


_RETRYABLE = {sqlite3.SQLITE_FULL: StoreState.FULL, sqlite3.SQLITE_BUSY: StoreState.LOCKED,
              sqlite3.SQLITE_LOCKED: StoreState.LOCKED, sqlite3.SQLITE_IOERR: StoreState.FAILING,
              sqlite3.SQLITE_READONLY: StoreState.FAILING, sqlite3.SQLITE_CANTOPEN: StoreState.FAILING,
              sqlite3.SQLITE_NOMEM: StoreState.FAILING, sqlite3.SQLITE_PROTOCOL: StoreState.FAILING}


def classify(exc: BaseException) -> StoreState | None:
    """The store problem behind a failed transaction, or None if the write itself was refused."""
    if isinstance(exc, OSError):
        return StoreState.FULL if exc.errno in (errno.ENOSPC, errno.EDQUOT) else StoreState.FAILING
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the sqlite3 error
    code = getattr(orig, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    return _RETRYABLE.get(code & 0xFF)  # extended codes (SQLITE_IOERR_WRITE...) carry the primary in the low byte


class StoreHealth:
    """Thread-safe bookkeeping of store problems for :class:`StoreStatus`: entered on the first failure that
    time can cure, left after ``recover_commits`` commits in a row (or one commit and ``recover_s`` seconds
    without a failure) with nothing kept waiting. A repeated failure is logged once, then with a count."""

    def __init__(self, recover_commits: int = 3, recover_s: float = 5.0, log_interval_s: float = 60.0,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 on_change: Callable[[StoreStatus], None] | None = None) -> None:
        self._recover_commits, self._recover_s = recover_commits, recover_s
        self._clock, self._mono = clock, monotonic
        self._on_change = on_change or (lambda status: None)
        self._log = ThrottledLog(log, log_interval_s)
        self._lock = threading.Lock()
        self._s = StoreStatus()
        self._streak = 0  # commits in a row since the last failure
        self._last_failure = -float("inf")  # monotonic

    def read(self) -> StoreStatus:
        with self._lock:
            return self._s

    @property
    def failing(self) -> bool:
        with self._lock:
            return self._s.state is not StoreState.OK

    def failed(self, state: StoreState, exc: BaseException, held: int, attempt_ts: float | None = None) -> None:
        """A transaction begun at ``attempt_ts`` (wall clock) failed for ``state``; ``held`` kept writes wait."""
        text = short_error(exc)
        with self._lock:
            s = self._s
            before = s.state
            self._streak = 0
            self._last_failure = self._mono()
            if before is StoreState.OK:  # a new problem: its own counts
                s = replace(s, since=attempt_ts or self._clock(), samples_shed=0, failures=0)
            self._s = status = replace(s, state=state, held=held, last_error=text, failures=s.failures + 1)
        self._log.log(logging.ERROR, ("store", state), "store %s: %s (alarm and operator writes are kept and "
                      "retried, samples are shed)", state.value, text)
        if state is not before:
            self._on_change(status)

    def shed(self, rows: int) -> None:
        with self._lock:
            self._s = replace(self._s, samples_shed=self._s.samples_shed + rows,
                              rows_dropped=self._s.rows_dropped + rows)

    def rejected(self) -> None:
        with self._lock:
            self._s = replace(self._s, rejected=self._s.rejected + 1)

    def committed(self, held: int) -> None:
        """A transaction committed; ``held`` kept writes still wait."""
        with self._lock:
            self._streak += 1
            if self._s.state is StoreState.OK:
                return
            self._s = replace(self._s, held=held)
        self.check(held)

    def held(self, held: int) -> None:
        with self._lock:
            if self._s.held != held:
                self._s = replace(self._s, held=held)

    def check(self, held: int) -> None:
        """End the problem if commits have come back (called after commits and when the writer is idle)."""
        with self._lock:
            s = self._s
            if s.state in (StoreState.OK, StoreState.STOPPED) or held or self._streak == 0:
                return
            quiet = self._mono() - self._last_failure >= self._recover_s
            if self._streak < self._recover_commits and not quiet:
                return
            now = self._clock()
            self._s = status = replace(s, state=StoreState.OK, since=None, held=0, recovered_ts=now)
        log.warning("store recovered after %.1f s (%s): %d failed attempts, %d sample rows not recorded; every "
                    "kept alarm and operator write is stored", now - (s.since or now), s.state.value, s.failures,
                    s.samples_shed)
        self._log.forget(("store", s.state))
        self._on_change(status)

    def stopped(self, exc: BaseException) -> None:
        with self._lock:
            self._s = status = replace(self._s, state=StoreState.STOPPED, since=self._clock(),
                                       last_error=short_error(exc))
        self._on_change(status)


def short_error(exc: BaseException) -> str:
    """One line: SQLAlchemy appends its statement and a help link to the driver's message."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}"[:300]
