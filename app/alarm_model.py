"""The alarm as the engine and the HMI see it: an immutable value, replaced on every change by the
:class:`~app.alarm_manager.AlarmManager` (which owns the lifecycle, the lock and the store writes)."""
from __future__ import annotations

from dataclasses import dataclass

from app.alarm_states import AlarmState
from app.labels import Label

S = AlarmState


@dataclass(frozen=True, slots=True)
class CloudStatus:
    state: str = "none"  # none | analyzing | confirmed | not_confirmed | unreachable
    failure_mode: str | None = None
    priority: str | None = None
    confidence: float | None = None
    sent_at: float | None = None  # wall clock

    @property
    def text(self) -> str:
        if self.state == "analyzing":
            return "edge: potential anomaly - cloud analyzing..."
        if self.state == "confirmed":
            mode = (self.failure_mode or "anomaly").replace("_", " ")
            return f"cloud confirmed: {mode} - {(self.priority or 'medium').upper()}"
        if self.state == "not_confirmed":
            return "cloud: not confirmed"
        if self.state == "unreachable":
            return "cloud unreachable - edge only"
        return ""


@dataclass(frozen=True, slots=True)
class Alarm:
    id: str
    asset: str
    kind: str
    priority: str
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
    shelved_until: float | None = None
    cloud: CloudStatus = CloudStatus()
    label: Label | None = None
    diagnostic: str | None = None  # a diagnostic alarm's key (app/diagnostics.py: "comm" | "signal"), else None

    @property
    def state(self) -> AlarmState:
        return self.overlay or self.base

    @property
    def current(self) -> bool:
        """Belongs in the alarm list: active, unacknowledged, or held by an overlay."""
        return self.active or self.base is not S.NORM or self.overlay is not None
