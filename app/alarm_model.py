"""The alarm as the engine and the HMI see it: an immutable value, replaced on every change by the
:class:`~app.alarm_manager.AlarmManager` (which owns the lifecycle, the lock and the store writes).

Every word that crosses the engine/UI boundary is an enum here (``StrEnum``: the value is the exact text stored in
SQLite and sent on the uplink, so neither changes), and every derived notion is defined once, on the model:

- the state SHOWN (:attr:`Alarm.state`): the overlay (SHLVD, DSUPR, OOSRV) if any, else the base state;
- *unacknowledged* (:attr:`Alarm.unacknowledged`): the shown state is UNACK or RTNUN. A shelved, suppressed or
  out-of-service alarm is NOT counted, whatever its base state: ISA-18.2 takes such alarms out of the operator's
  view and counts (shelving is meant to quiet an alarm; counting it as waiting would keep annunciating it);
- *annunciated* (:attr:`Alarm.annunciated`): shown as an alarm (UNACK, ACKED, RTNUN), for badges and colours;
- *standing* (:attr:`Alarm.standing`): belongs in the alarm list (active, not yet back to NORM, or held);
- the priority order (:attr:`Priority.rank`, :func:`most_urgent`) and the alarm list's order (:func:`list_order`).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.alarm_states import AlarmState
from app.labels import Label

S = AlarmState


def _as_member(obj: Any, name: str, enum: type[StrEnum]) -> None:
    """Turn the field ``name`` of a frozen dataclass into a member of ``enum`` if it holds text (None stays None)."""
    value = getattr(obj, name)
    if value is None or isinstance(value, enum):
        return
    try:
        member = enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"{type(obj).__name__}.{name}: {value!r} is not one of {allowed}") from None
    object.__setattr__(obj, name, member)


class Priority(StrEnum):
    """ISA-18.2 priority. Never compare members with ``<``/``max`` directly (that is alphabetical): use ``rank``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """The one priority order: higher is more urgent (low 1, medium 2, high 3)."""
        return _RANK[self]


_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}


def most_urgent(priorities: Iterable[Priority]) -> Priority | None:
    """The highest priority among ``priorities``; None when there are none."""
    return max(priorities, key=lambda p: p.rank, default=None)


class AlarmKind(StrEnum):
    ANOMALY = "anomaly"  # raised by the detector on the process
    DIAGNOSTIC = "diagnostic"  # about the instrumentation: communication lost, bad signal quality


class AlarmEvent(StrEnum):
    """What happened to an alarm: ``AlarmStateChanged.event`` and the ``alarm_events.event`` column (the text is
    stored as it always was). The uplink maps some of them to its own words (app/cloud_messages.py)."""

    RAISED = "raised"
    REACTIVATED = "reactivated"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    SHELVED = "shelved"  # for a time (ShelveMode.TIMED)
    SHELVED_UNTIL_CLEARED = "shelved until cleared"  # one-shot (ShelveMode.UNTIL_CLEARED)
    UNSHELVED = "unshelved"
    UNSHELVED_ON_CLEAR = "unshelved on clear"  # a one-shot shelving ended: its condition returned to normal
    SHELVING_EXPIRED = "shelving expired"
    SUPPRESSED = "suppressed by design"
    UNSUPPRESSED = "unsuppressed"
    OUT_OF_SERVICE = "out of service"
    RETURNED_TO_SERVICE = "returned to service"
    LABELLED = "labelled"
    CLOUD_ANALYZING = "cloud analyzing"
    CLOUD_CONFIRMED = "cloud confirmed"
    CLOUD_NOT_CONFIRMED = "cloud not confirmed"
    CLOUD_UNREACHABLE = "cloud unreachable"

    @property
    def from_cloud(self) -> bool:
        """The cloud's side of the story (analyzing, a verdict, unreachable)."""
        return self in _CLOUD_EVENTS


_CLOUD_EVENTS = frozenset({AlarmEvent.CLOUD_ANALYZING, AlarmEvent.CLOUD_CONFIRMED, AlarmEvent.CLOUD_NOT_CONFIRMED,
                           AlarmEvent.CLOUD_UNREACHABLE})


class ShelveMode(StrEnum):
    """ISA-18.2 shelving: for a set time, or one-shot until the alarm's condition next clears (the value is the
    ``alarms.shelve_mode`` column's text)."""

    TIMED = "timed"
    UNTIL_CLEARED = "until_cleared"


MAX_SHELVE_S = 7 * 86400.0  # no shelving, of either kind, lasts longer than this
UNTIL_CLEARED_MAX_S = 8 * 3600.0  # a one-shot shelving still ends after one shift: nothing stays shelved forever


@dataclass(frozen=True, slots=True)
class ShelveSpec:
    """How an operator shelves an alarm. ``duration_s``: for TIMED how long; for UNTIL_CLEARED the longest it
    may last if the condition never clears (it then expires like a timed shelving)."""

    mode: ShelveMode
    duration_s: float

    def __post_init__(self) -> None:
        _as_member(self, "mode", ShelveMode)
        d = self.duration_s
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) \
                or not 0 < d <= MAX_SHELVE_S:
            raise ValueError(f"ShelveSpec.duration_s: {d!r} is not allowed: shelve for between 1 second and 7 days")

    @classmethod
    def timed(cls, seconds: float) -> ShelveSpec:
        return cls(ShelveMode.TIMED, seconds)

    @classmethod
    def until_cleared(cls, max_s: float = UNTIL_CLEARED_MAX_S) -> ShelveSpec:
        return cls(ShelveMode.UNTIL_CLEARED, max_s)


class CloudState(StrEnum):
    NONE = "none"  # not sent (a diagnostic, raised out of service, or no answer expected)
    ANALYZING = "analyzing"
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CloudStatus:
    state: CloudState = CloudState.NONE
    failure_mode: str | None = None
    priority: Priority | None = None
    confidence: float | None = None
    sent_at: float | None = None  # on the alarm manager's timer (real time in the engine): for the time-out

    def __post_init__(self) -> None:
        _as_member(self, "state", CloudState)
        _as_member(self, "priority", Priority)

    @property
    def text(self) -> str:
        if self.state is CloudState.ANALYZING:
            return "edge: potential anomaly - cloud analyzing..."
        if self.state is CloudState.CONFIRMED:
            mode = (self.failure_mode or "anomaly").replace("_", " ")
            return f"cloud confirmed: {mode} - {(self.priority or Priority.MEDIUM).upper()}"
        if self.state is CloudState.NOT_CONFIRMED:
            return "cloud: not confirmed"
        if self.state is CloudState.UNREACHABLE:
            return "cloud unreachable - edge only"
        return ""


@dataclass(frozen=True, slots=True)
class Alarm:
    id: str
    asset: str
    kind: AlarmKind
    priority: Priority
    base: AlarmState
    raised_ts: float
    last_active_ts: float
    peak_score: float
    activations: int
    top_channels: tuple[tuple[str, float], ...]
    message: str
    active: bool
    overlay: AlarmState | None = None
    cleared_ts: float | None = None
    shelved_until: float | None = None  # when a shelving expires (for UNTIL_CLEARED: its longest end), plant clock
    shelve_mode: ShelveMode | None = None  # set while shelved (overlay SHLVD), else None
    cloud: CloudStatus = CloudStatus()
    label: Label | None = None
    diagnostic_key: str | None = None  # a diagnostic alarm's key (app/diagnostics.py: "comm" | "signal"), else None

    def __post_init__(self) -> None:
        # The stored text (a restored row) becomes its member here, so an Alarm always carries the enums,
        # whoever builds it; unknown text is refused with the field's name and the allowed words.
        _as_member(self, "kind", AlarmKind)
        _as_member(self, "priority", Priority)
        _as_member(self, "base", AlarmState)
        _as_member(self, "overlay", AlarmState)
        _as_member(self, "shelve_mode", ShelveMode)
        # The mode means something only while shelved; a shelving that does not say (an older caller) is timed.
        shelved = self.overlay is S.SHLVD
        if shelved != (self.shelve_mode is not None):
            object.__setattr__(self, "shelve_mode", (self.shelve_mode or ShelveMode.TIMED) if shelved else None)

    @property
    def state(self) -> AlarmState:
        """The state shown (and stored): the overlay if any, else the base state."""
        return self.overlay or self.base

    @property
    def unacknowledged(self) -> bool:
        """Waits for acknowledgement as the operator sees it (shown state UNACK or RTNUN; a shelved, suppressed or
        out-of-service alarm does not count). The engine's counts and every screen use this."""
        return self.state.unacknowledged

    @property
    def annunciated(self) -> bool:
        """Shown as an alarm (UNACK, ACKED, RTNUN): not held by an overlay and not back to NORM."""
        return self.state.annunciated

    @property
    def standing(self) -> bool:
        """Belongs in the alarm list: active, not yet back to NORM, or held by an overlay (shelved, suppressed,
        out of service). Cleared and acknowledged alarms (NORM without an overlay) leave it."""
        return self.active or self.base is not S.NORM or self.overlay is not None

    @property
    def diagnostic(self) -> bool:
        return self.kind is AlarmKind.DIAGNOSTIC


def list_order(a: Alarm) -> tuple[bool, int, float]:
    """The alarm list's order: unacknowledged first, then the most urgent priority, then the newest."""
    return (not a.unacknowledged, -a.priority.rank, -a.raised_ts)

