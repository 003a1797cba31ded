"""What the engine tells the outside world. Frozen dataclasses with past-tense names.

Listeners registered with :meth:`app.engine.Engine.subscribe` receive them ON A WORKER THREAD (the detection
or store thread); a GUI must hop them onto its own thread.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.audit_check import ChainReport
from app.store.status import StoreState
from detection.regime import Regime


@dataclass(frozen=True, slots=True)
class AlarmRaised:
    alarm_id: str
    asset: str
    ts: float
    score: float
    priority: Priority
    top_channels: tuple[tuple[str, float], ...]
    message: str
    reactivated: bool = False  # True: an existing alarm tripped again within the de-duplication window
    state: AlarmState = AlarmState.UNACK  # OOSRV when its asset is out of service (then it is not annunciated)
    kind: AlarmKind = AlarmKind.ANOMALY  # the detector, or a diagnostic (communication or signal quality)


@dataclass(frozen=True, slots=True)
class AlarmCleared:
    alarm_id: str
    asset: str
    ts: float
    peak_score: float


@dataclass(frozen=True, slots=True)
class AlarmStateChanged:
    alarm_id: str
    asset: str
    ts: float
    state: AlarmState  # the state shown after the change
    event: AlarmEvent
    user: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RegimeChanged:
    asset: str
    ts: float
    regime: Regime


@dataclass(frozen=True, slots=True)
class CommissioningCompleted:
    asset: str
    ts: float
    samples: int


@dataclass(frozen=True, slots=True)
class PrerunFinished:
    """The source's pre-run (the simulator demo's commissioning from simulated plant time, app/sources.py) is
    scored: every frame before ``live_from_ts`` has been through detection, none after it yet."""

    live_from_ts: float
    plant_s: float  # plant time the pre-run covered
    wall_s: float  # wall time it took, from the engine's start
    commissioned: tuple[str, ...]
    learning: tuple[str, ...]  # assets not commissioned by its end (they go on learning from live data)


@dataclass(frozen=True, slots=True)
class WorkerFailed:
    """A worker hit an exception. ``fatal``: the worker stopped (the engine stops with it)."""

    worker: str
    error: str
    fatal: bool


@dataclass(frozen=True, slots=True)
class AuditChainChecked:
    """The audit log's hash chain was verified at start; ``report.ok`` False = tampering was found (which rows)."""

    report: ChainReport


@dataclass(frozen=True, slots=True)
class StorageChanged:
    """The store's own state changed: a problem began (``state`` FULL, LOCKED, FAILING: alarm and operator writes
    are kept and retried, samples shed), changed, or ended (OK). Arrives on the store writer thread."""

    state: StoreState
    detail: str  # the operator's sentence, e.g. "STORAGE FULL: samples not being recorded, alarms kept and retried"
    held: int  # alarm/operator writes waiting to be retried
    samples_shed: int  # sample rows not recorded in this problem


@dataclass(frozen=True, slots=True)
class SourceFinished:
    frames: int
    skipped: dict[str, int]


EngineEvent = (
    AlarmRaised | AlarmCleared | AlarmStateChanged | RegimeChanged | CommissioningCompleted | WorkerFailed
    | StorageChanged | SourceFinished | AuditChainChecked | PrerunFinished
)
