"""What a shift handover report says, as typed values: assembled from the store (the shift review, the logbook,
the KPIs, the plant's last samples) by :func:`app.handover.assemble.handover_content`, drawn by
app/handover/pdf.py. Every time is epoch seconds; text is as stored (the PDF escapes it, app/handover/markup.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.alarm_model import AlarmEvent, Priority
from app.alarm_states import AlarmState
from app.kpi.model import KpiReport
from app.kpi.plot_data import BarPlot, RatePlot
from app.labels import Verdict
from detection.failure_modes import FailureMode


class AssetCondition(StrEnum):
    """An asset's condition at the shift end, the worst that applies (the order here)."""

    OUT_OF_SERVICE = "out of service"
    ALARM = "in alarm"  # an annunciated alarm standing (UNACK, ACKED, RTNUN)
    HELD = "alarm held"  # only shelved or suppressed alarms standing
    NO_DATA = "no data"  # no stored sample in the last minutes of the shift
    NORMAL = "normal"


@dataclass(frozen=True, slots=True)
class AssetStatusLine:
    """One asset at the shift end. ``regime``: "running"/"stopped" from its last stored sample (None: none
    stored near the end); ``standing``: alarms still in the alarm list (active, unacknowledged or held)."""

    asset: str
    condition: AssetCondition
    regime: str | None
    standing: int
    unacknowledged: int
    shelved: int
    suppressed: int
    out_of_service: bool


@dataclass(frozen=True, slots=True)
class StandingAlarm:
    """An alarm open (its condition active) or standing (unacknowledged, shelved, suppressed, out of service) at
    the shift end: its state then, and since when (its latest activation; its raise when it is no longer active)."""

    alarm_id: str
    asset: str
    title: str  # the alarm's message
    priority: Priority
    state: AlarmState
    active: bool  # its condition was still active at the end
    since_ts: float
    duration_s: float  # from since_ts to the end
    stale: bool  # active for more than 24 h
    reasons: tuple[str, ...]  # why it stands: "active", "unacknowledged", "shelved", ...


@dataclass(frozen=True, slots=True)
class ShiftAlarm:
    """An alarm raised during the shift."""

    alarm_id: str
    asset: str
    title: str
    priority: Priority
    raised_ts: float
    cleared_ts: float | None  # its clear within the shift, if any
    state_at_end: AlarmState | None


@dataclass(frozen=True, slots=True)
class ActionLine:
    """An operator action in the shift: who did what to which alarm (or asset), and their note."""

    ts: float
    user: str | None  # None: the system (a shelving that expired, a suppression by design)
    action: AlarmEvent
    asset: str
    title: str  # the alarm's message (or the asset)
    note: str | None


@dataclass(frozen=True, slots=True)
class LabelLine:
    """A label given in the shift: the technician's verdict on an alarm."""

    ts: float
    user: str
    asset: str
    title: str
    verdict: Verdict
    failure_mode: FailureMode | None
    correction: bool  # the alarm had a label before this one
    note: str | None


@dataclass(frozen=True, slots=True)
class LogLine:
    """A logbook entry: written in the shift, or carried over from before (flagged, not cleared)."""

    ts: float
    user: str
    text: str
    asset: str | None
    carried_over: bool  # written in an earlier shift, flagged and not cleared at this shift's end
    flagged: bool  # flagged to carry over (an entry of this shift that will carry into the next handovers)


@dataclass(frozen=True, slots=True)
class HandoverContent:
    """Everything the PDF shows, in its order. ``covered_until``: the end of what it reports (the shift end, or
    the moment it was generated while the shift still ran)."""

    gateway: str
    site: str
    shift_label: str
    shift_start: float
    shift_end: float
    covered_until: float
    generated_ts: float
    generated_by: str
    zone: ZoneInfo
    assets: tuple[AssetStatusLine, ...]
    standing: tuple[StandingAlarm, ...]
    alarms: tuple[ShiftAlarm, ...]
    actions: tuple[ActionLine, ...]
    labels: tuple[LabelLine, ...]
    logbook: tuple[LogLine, ...]  # written in the shift, oldest first
    carried_over: tuple[LogLine, ...]  # flagged earlier and still open at the shift end
    kpi: KpiReport
    rate: RatePlot
    bad_actors: BarPlot
    logbook_available: bool = True  # False: this store has no logbook yet (the section says so)


__all__ = ["ActionLine", "AssetCondition", "AssetStatusLine", "HandoverContent", "LabelLine", "LogLine",
           "ShiftAlarm", "StandingAlarm"]
