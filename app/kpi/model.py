"""The typed KPI report (ISA-18.2 / EEMUA 191): what :func:`app.kpi.kpi_report` returns, field by field.

Every count here is over the half-open range ``[start, end)`` in epoch seconds. What "an alarm" means in each
group is said on the class. Shares are fractions 0..1 (the screen multiplies by 100); a mean or a precision with
nothing to average is None, never 0 or NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.alarm_model import AlarmKind, Priority
from app.alarm_states import AlarmState

PERIOD_S = 600.0  # the standards' 10-minute period
ACCEPTABLE_PER_10MIN = 1.0  # ISA-18.2: ~1 per 10 min "very likely acceptable"
MANAGEABLE_PER_10MIN = 2.0  # ~2 per 10 min "maximum manageable"
FLOOD_START = 10  # a flood starts when MORE than 10 alarms fall in 10 minutes...
FLOOD_END = 5  # ...and ends when FEWER than 5 do
FLOOD_TARGET_SHARE = 0.01  # time in flood < 1 %
CHATTER_COUNT, CHATTER_WINDOW_S = 3, 60.0  # 3 or more activations of one source, the first and third <= 60 s apart
STALE_S = 86_400.0  # active for more than 24 h
TOP_N = 10  # bad actors listed
PRIORITY_TARGET: dict[Priority, float] = {Priority.LOW: 0.80, Priority.MEDIUM: 0.15, Priority.HIGH: 0.05}


@dataclass(frozen=True, slots=True, order=True)
class AlarmSource:
    """"The same alarm" for bad actors and chattering: one asset's anomaly alarm, or one asset's diagnostic of one
    key (comm, signal). Two alarm rows of the same source (raised again after the first went back to normal) are
    the same alarm to the operator."""

    asset: str
    kind: AlarmKind
    diagnostic: str | None = None

    @property
    def text(self) -> str:
        """E.g. ``"P-101 anomaly"``, ``"P-101 diagnostic comm"`` (a bar chart's axis label)."""
        return f"{self.asset} {self.kind.value}" + (f" {self.diagnostic}" if self.diagnostic else "")


@dataclass(frozen=True, slots=True)
class RateSeries:
    """Activations per fixed 10-minute period, for the rate plot: period ``k`` is ``[start + k*600, start +
    (k+1)*600)``; the last one is cut short at the range end when the range is not a whole number of periods."""

    start: float
    period_s: float
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AlarmRate:
    """The alarm load: activations (an alarm raised, or re-activated after it cleared) that were annunciated. An
    activation while shelved, suppressed or out of service is not (ISA-18.2): counted in ``held_activations`` only.
    ``share_above_1``/``share_above_2``: the share of 10-minute periods with more than 1 (2) activations.
    ``peak_10min``: the most in one fixed period; ``peak_sliding_10min``: the most in any 10 minutes."""

    activations: int
    alarms_raised: int
    held_activations: int
    periods: int
    mean_per_10min: float
    share_above_1: float
    share_above_2: float
    peak_10min: int
    peak_sliding_10min: int
    series: RateSeries


@dataclass(frozen=True, slots=True)
class FloodPeriod:
    """One flood as it really ran (may begin before or end after the range). ``peak``: the most activations in
    the sliding 10 minutes during it; ``activations``: those inside it."""

    start_ts: float
    end_ts: float
    peak: int
    activations: int


@dataclass(frozen=True, slots=True)
class FloodKpi:
    """Floods on a SLIDING window: the count of activations in the 10 minutes up to each moment; a flood starts
    the moment it exceeds 10 and ends the moment it falls below 5 (hysteresis). ``time_share``: the part of the
    range spent in flood (target < 1 %). ``periods_over_10_share``: the FIXED-period measure of the performance
    table, the share of 10-minute periods with more than 10 activations."""

    time_share: float
    flood_s: float
    periods_over_10_share: float
    floods: tuple[FloodPeriod, ...]


@dataclass(frozen=True, slots=True)
class BadActor:
    source: AlarmSource
    activations: int
    share: float  # of all activations in the range


@dataclass(frozen=True, slots=True)
class BadActors:
    """The most frequent sources, most activations first (ties: by source), at most 10; ``top_share`` is their
    part of the load (ISA-18.2: 1-5 % at most)."""

    top: tuple[BadActor, ...]
    top_share: float
    sources: int  # distinct sources with at least one activation


@dataclass(frozen=True, slots=True)
class ChatteringSource:
    source: AlarmSource
    activations: int  # in the range
    peak_per_minute: int  # the most activations within any 60 s


@dataclass(frozen=True, slots=True)
class ChatteringKpi:
    """Sources with 3 or more activations within 60 s somewhere in the range (target: none)."""

    sources: tuple[ChatteringSource, ...]
    activations: int  # all activations of those sources, in the range


@dataclass(frozen=True, slots=True)
class StaleAlarm:
    alarm_id: str
    source: AlarmSource
    priority: Priority
    active_since: float  # its latest activation
    active_s: float  # at the range end
    state: AlarmState  # at the range end


@dataclass(frozen=True, slots=True)
class PriorityShare:
    """One priority's part of the load; ``target`` is the 80/15/5 % guide."""

    priority: Priority
    alarms_raised: int
    activations: int
    share: float | None  # of activations; None when there were none
    target: float


@dataclass(frozen=True, slots=True)
class HeldKpi:
    """Operator and design holds: how often alarms were put on hold in the range (events), and how many were held
    at its end (their state then)."""

    shelved: int
    suppressed: int
    out_of_service: int
    shelved_at_end: int
    suppressed_at_end: int
    out_of_service_at_end: int
    unacknowledged_at_end: int  # UNACK or RTNUN at the end (waiting for an operator)


@dataclass(frozen=True, slots=True)
class AckKpi:
    """Time to acknowledge: for every acknowledgement in the range, the seconds since the alarm's latest activation
    before it. p90 by linear interpolation (numpy's default)."""

    acknowledged: int
    mean_s: float | None
    p90_s: float | None
    max_s: float | None


@dataclass(frozen=True, slots=True)
class PrecisionGroup:
    """Labels of one group: real failures, false alarms, unsure (not counted in the precision)."""

    key: str
    failures: int
    false_alarms: int
    unsure: int

    @property
    def precision(self) -> float | None:
        judged = self.failures + self.false_alarms
        return self.failures / judged if judged else None


@dataclass(frozen=True, slots=True)
class ModelPrecisionKpi:
    """The edge model's precision from the technicians' labels: anomaly alarms raised in the range, each judged by
    its LATEST label (a revised label replaces the first). ``by_failure_mode`` groups by the cloud's diagnosis
    shown with the alarm (``"none"``: it gave none); ``unlabelled``: anomaly alarms with no label yet."""

    overall: PrecisionGroup
    by_asset: tuple[PrecisionGroup, ...]
    by_failure_mode: tuple[PrecisionGroup, ...]
    unlabelled: int


@dataclass(frozen=True, slots=True)
class CloudAgreementKpi:
    """How often the cloud's verdict agreed with the label (latest, not unsure): confirmed = failure, not confirmed
    = false alarm. ``no_verdict``: labelled alarms the cloud never judged (unreachable, still analyzing, not sent).
    ``modes_*``: of the confirmed failures, how often the cloud named the label's failure mode."""

    compared: int
    agreed: int
    no_verdict: int
    modes_compared: int
    modes_agreed: int

    @property
    def share(self) -> float | None:
        return self.agreed / self.compared if self.compared else None

    @property
    def mode_share(self) -> float | None:
        return self.modes_agreed / self.modes_compared if self.modes_compared else None


@dataclass(frozen=True, slots=True)
class KpiReport:
    start: float
    end: float
    rate: AlarmRate
    flood: FloodKpi
    bad_actors: BadActors
    chattering: ChatteringKpi
    priorities: tuple[PriorityShare, ...]  # low, medium, high
    stale: tuple[StaleAlarm, ...]  # longest active first
    held: HeldKpi
    ack: AckKpi
    precision: ModelPrecisionKpi
    cloud: CloudAgreementKpi
