"""The engine's live view for the HMI: a ring buffer of recent samples per asset and a status snapshot.

Written by the detection thread, read by the GUI thread at 20-30 Hz: reads copy out under a short lock, so the
GUI never waits on I/O or the database.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from acquisition.channels import N_CHANNELS
from app.audit_check import ChainReport
from app.health import ErrorRecord, Part, PartHealth, PartState
from app.store.status import StoreStatus
from app.uplink.status import UplinkStatus  # state "stand-in" when the in-process stand-in plays the cloud
from detection.alerts import RuleState
from detection.commissioning import LearningProgress
from detection.regime import Regime

if TYPE_CHECKING:  # app.daily_checks imports the doctor's checks: not needed to build or read a snapshot
    from app.daily_checks import ChecksSummary

Samples = tuple[np.ndarray, np.ndarray, np.ndarray]  # ts (n,), values (n, 8), scores (n,) NaN = no score


class AssetHealth(StrEnum):
    """One word for an asset's state on the overview, in the order the engine decides it (first that applies)."""

    OUT_OF_SERVICE = "out of service"
    NO_DATA = "no data"  # its device is not communicating (a diagnostic)
    STOPPED = "stopped"
    ALARM = "alarm"  # an annunciated alarm of it is active
    COMMISSIONING = "commissioning"  # learning normal
    WARNING = "warning"  # an unacknowledged alarm, or the score near the threshold
    OK = "ok"


@dataclass(frozen=True, slots=True)
class AssetStatus:
    asset: str
    regime: Regime
    commissioned: bool
    learning: bool
    values: np.ndarray
    score: float | None
    active_alarms: int
    unacked_alarms: int
    health: AssetHealth
    # Per channel acquisition.quality.Quality codes of the latest frame (None: the source reports none, all good).
    # Values that are not GOOD are NaN in ``values`` and in the trend buffers: never shown as good.
    quality: np.ndarray | None = None
    comm_lost: bool = False  # the asset's device is not communicating (a diagnostic alarm is raised)
    # While normal is being learnt: how far, and what holds it up; text() reads "Learning normal: 37 of 120
    # samples; flow unsteady". None once the asset's current operating state is known.
    learning_progress: LearningProgress | None = None
    sample_period_s: float = 1.0  # the asset's sampling period as detection measures it (views can size windows by it)
    # The alert rule as it stands: threshold, minimum duration, the current run above the threshold, the clear
    # level; views draw the score as the rule evaluates it (detection.alerts.held_score). None: not known.
    rule: RuleState | None = None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """The data source alone (its thread and its errors); storage and detection problems are in ``health``."""

    ok: bool
    detail: str
    frames: int
    skipped: int


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    ts: float | None
    assets: dict[str, AssetStatus]
    source: SourceHealth
    uplink: UplinkStatus
    threshold: float
    frames: int = 0
    errors: tuple[ErrorRecord, ...] = field(default_factory=tuple)  # recent errors of every part, newest last
    health: dict[Part, PartHealth] = field(default_factory=dict)  # every part's state now
    store: StoreStatus = field(default_factory=StoreStatus)  # the store writer's own account
    audit: ChainReport | None = None  # the audit log's hash chain as verified at start (admins are shown a break)
    checks: ChecksSummary | None = None  # the daily health check's last run (app/daily_checks.py); None before it

    def worst(self, *, besides: tuple[Part, ...] = ()) -> PartHealth | None:
        """The part the operator should hear about first (a stopped one, then a failing one, in ``Part`` order),
        leaving out ``besides`` (shown elsewhere); None when every part works."""
        bad = [h for h in self.health.values() if not h.ok and h.part not in besides]
        return min(bad, key=lambda h: (h.state is not PartState.STOPPED, list(Part).index(h.part))) if bad else None

    def engine_stopped(self) -> PartHealth | None:
        """The worker whose death stopped the engine (no new data for any asset), or None while it runs."""
        return next((h for p in ENGINE_PARTS if (h := self.health.get(p)) is not None
                     and h.state is PartState.STOPPED), None)


# Parts whose worker's death stops the whole engine (app.engine: a fatal error in one stops them all): once one of
# them is STOPPED no asset gets new data, so no asset's state is known any more.
ENGINE_PARTS = (Part.SOURCE, Part.DETECTION, Part.ALARMS)


class _Ring:
    def __init__(self, capacity: int) -> None:
        self.ts = np.full(capacity, np.nan)
        self.values = np.full((capacity, N_CHANNELS), np.nan)
        self.scores = np.full(capacity, np.nan)
        self.n = 0  # total written; next slot = n % capacity

    def append(self, ts: float, values: np.ndarray, score: float | None) -> None:
        i = self.n % len(self.ts)
        self.ts[i] = ts
        self.values[i] = values
        self.scores[i] = np.nan if score is None else score
        self.n += 1

    def newer_than(self, after_ts: float) -> Samples:
        """Copies only the rows newer than ``after_ts`` (the buffer is in time order, so binary search)."""
        cap = len(self.ts)
        if self.n <= cap:
            segments = [(0, self.n)]
        else:
            k = self.n % cap
            segments = [(k, cap), (0, k)]
        parts = []
        for a, b in segments:
            i = a + int(np.searchsorted(self.ts[a:b], after_ts, side="right"))
            if i < b:
                parts.append(slice(i, b))
        if not parts:
            return np.empty(0), np.empty((0, N_CHANNELS)), np.empty(0)
        return (np.concatenate([self.ts[p] for p in parts]), np.concatenate([self.values[p] for p in parts]),
                np.concatenate([self.scores[p] for p in parts]))

    def latest(self) -> tuple[float, np.ndarray, float | None] | None:
        if self.n == 0:
            return None
        i = (self.n - 1) % len(self.ts)
        score = self.scores[i]
        return float(self.ts[i]), self.values[i].copy(), None if np.isnan(score) else float(score)


class LiveBuffer:
    """Recent samples per asset (default 2 h at 1 Hz)."""

    def __init__(self, capacity: int = 7200) -> None:
        self._capacity = capacity
        self._rings: dict[str, _Ring] = {}
        self._lock = threading.Lock()

    def append(self, asset: str, ts: float, values: np.ndarray, score: float | None) -> None:
        with self._lock:
            ring = self._rings.get(asset)
            if ring is None:
                ring = self._rings[asset] = _Ring(self._capacity)
            ring.append(ts, values, score)

    def since(self, asset: str, after_ts: float) -> Samples:
        with self._lock:
            ring = self._rings.get(asset)
            if ring is None:
                return np.empty(0), np.empty((0, N_CHANNELS)), np.empty(0)
            return ring.newer_than(after_ts)

    def window(self, asset: str, seconds: float) -> Samples:
        """The last ``seconds`` of samples (inclusive of the newest)."""
        with self._lock:
            ring = self._rings.get(asset)
            latest = ring.latest() if ring is not None else None
            if ring is None or latest is None:
                return np.empty(0), np.empty((0, N_CHANNELS)), np.empty(0)
            return ring.newer_than(np.nextafter(latest[0] - seconds, -np.inf))

    def latest(self, asset: str) -> tuple[float, np.ndarray, float | None] | None:
        """(ts, values, score) of the newest sample, or None."""
        with self._lock:
            ring = self._rings.get(asset)
            return ring.latest() if ring is not None else None
