"""Health of the engine's parts as it is now, for the snapshot and the operator.

Each part (the source, detection, the store, the uplink, model fits, the alarm timers) reports its own errors;
errors are kept per part with a bound, repeats of the same error are counted on one record, and records age out.
A part is in FAULT while its errors keep coming (the last one less than ``fault_s`` ago) or while the worker
itself says so (the store writer's own state); once they stop it shows as RECOVERED for ``keep_s``, then OK.
A worker that died is STOPPED until a restart: that is the present too.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from app.store.status import StoreState, StoreStatus
from app.uplink.status import UplinkStatus


class Part(Enum):
    SOURCE = "source"
    DETECTION = "detection"
    STORE = "store"
    UPLINK = "uplink"
    FITS = "fits"  # model fits (commissioning, new operating states) on their own worker
    ALARMS = "alarms"  # alarm timers (shelving expiry, cloud time-outs) on the housekeeping thread


class PartState(Enum):
    OK = "ok"
    RECOVERED = "recovered"  # working; had errors in the last ``keep_s``
    FAULT = "fault"  # failing now
    STOPPED = "stopped"  # the worker died: nothing more happens until a restart

    @property
    def ok(self) -> bool:
        return self in (PartState.OK, PartState.RECOVERED)


# The words an operator sees for a part that is not OK (status bar, banner).
FAULT_TITLE = {Part.SOURCE: "DATA SOURCE FAULT", Part.DETECTION: "DETECTION FAULT", Part.STORE: "STORAGE FAULT",
               Part.UPLINK: "UPLINK FAULT", Part.FITS: "MODEL FIT FAILED", Part.ALARMS: "ALARM TIMER FAULT"}


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    part: Part
    text: str
    first_ts: float  # wall clock of the first of these
    last_ts: float  # wall clock of the latest
    count: int = 1  # how many times this same error came in a row


@dataclass(frozen=True, slots=True)
class PartHealth:
    part: Part
    state: PartState
    detail: str  # what is wrong (or was, while RECOVERED); "" when OK
    since: float | None = None  # wall clock: the fault began / the part recovered
    last_error: ErrorRecord | None = None
    title: str | None = None  # the part's own words for its fault ("STORAGE FULL"), else FAULT_TITLE

    @property
    def ok(self) -> bool:
        return self.state.ok

    @property
    def headline(self) -> str:
        """What the operator reads first: "DATA SOURCE FAULT", "STORAGE FULL", ... ("OK" when it is)."""
        return "OK" if self.ok else self.title or FAULT_TITLE[self.part]


class HealthBoard:
    """Thread-safe error history per part: at most ``per_part`` records each, none older than ``keep_s``."""

    def __init__(self, fault_s: float = 30.0, keep_s: float = 300.0, per_part: int = 10,
                 clock: Callable[[], float] = time.time) -> None:
        self.fault_s, self.keep_s = fault_s, keep_s
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[Part, deque[ErrorRecord]] = {p: deque(maxlen=per_part) for p in Part}
        self._stopped: dict[Part, ErrorRecord] = {}
        self._cleared: dict[Part, float] = {}  # a worker said it is well again at this time (no error since)

    def error(self, part: Part, text: str, fatal: bool = False) -> bool:
        """Record an error; True if it is news (not a repeat of the part's current fault): announce those."""
        now = self._clock()
        with self._lock:
            recs = self._records[part]
            was_failing = self._failing(part, now)
            self._cleared.pop(part, None)
            last = recs[-1] if recs else None
            if last is not None and last.text == text and now - last.last_ts < self.keep_s:
                recs[-1] = replace(last, last_ts=now, count=last.count + 1)
                repeat = True
            else:
                recs.append(ErrorRecord(part, text, now, now))
                repeat = False
            if fatal:
                self._stopped[part] = recs[-1]
            return fatal or not (repeat and was_failing)

    def cleared(self, part: Part) -> None:
        """The part's worker reports it works again (its errors stay in the history, as RECOVERED)."""
        with self._lock:
            self._cleared[part] = self._clock()

    def part(self, part: Part) -> PartHealth:
        now = self._clock()
        with self._lock:
            stopped = self._stopped.get(part)
            if stopped is not None:
                return PartHealth(part, PartState.STOPPED, stopped.text, stopped.last_ts, stopped)
            last = self._latest(part, now)
            if last is None:
                return PartHealth(part, PartState.OK, "")
            if self._failing(part, now):
                return PartHealth(part, PartState.FAULT, last.text, last.first_ts, last)
            since = self._cleared.get(part, last.last_ts + self.fault_s)
            return PartHealth(part, PartState.RECOVERED, last.text, since, last)

    def now(self, store: StoreStatus, uplink: UplinkStatus) -> dict[Part, PartHealth]:
        """Every part's health now; the store and the uplink as their workers report themselves."""
        health = {p: self.part(p) for p in Part}
        health[Part.STORE] = store_part(store, health[Part.STORE], self.keep_s, self._clock())
        health[Part.UPLINK] = uplink_part(uplink, health[Part.UPLINK])
        return health

    def recent(self, n: int = 5) -> tuple[ErrorRecord, ...]:
        """The newest ``n`` error records of every part that have not aged out, newest last."""
        now = self._clock()
        with self._lock:
            alive = [r for recs in self._records.values() for r in recs if now - r.last_ts < self.keep_s]
        return tuple(sorted(alive, key=lambda r: r.last_ts)[-n:])

    def _latest(self, part: Part, now: float) -> ErrorRecord | None:
        recs = self._records[part]
        while recs and now - recs[0].last_ts >= self.keep_s:  # age out (oldest first)
            recs.popleft()
        return recs[-1] if recs else None

    def _failing(self, part: Part, now: float) -> bool:
        recs = self._records[part]
        if not recs:
            return False
        return now - recs[-1].last_ts < self.fault_s and part not in self._cleared


def store_part(status: StoreStatus, reported: PartHealth, keep_s: float, now: float) -> PartHealth:
    """The store's health: the writer's own state first (full, locked...), then refused writes it reported."""
    if not status.ok:
        state = PartState.STOPPED if status.state is StoreState.STOPPED else PartState.FAULT
        return PartHealth(Part.STORE, state, status.consequence, status.since, reported.last_error, status.headline)
    if not reported.ok:
        return reported
    if status.recovered_ts is not None and now - status.recovered_ts < keep_s:
        shed = f", {status.samples_shed} sample rows were not recorded" if status.samples_shed else ""
        return PartHealth(Part.STORE, PartState.RECOVERED, f"storage recovered ({status.last_error}){shed}",
                          status.recovered_ts, reported.last_error)
    return reported


def uplink_part(status: UplinkStatus, reported: PartHealth) -> PartHealth:
    """The uplink's health: its thread's own report (stopped), else whether the broker is reachable now."""
    if reported.state is PartState.STOPPED or status.state != "down":
        return reported
    return PartHealth(Part.UPLINK, PartState.FAULT, f"uplink down: {status.last_error or 'cloud unreachable'}",
                      None, reported.last_error)
