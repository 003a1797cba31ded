"""Each KPI of a report against its target, in words: what the KPI screen's table and the handover PDF list. One
definition of the targets and of "above target", so panel and paper never disagree. No Qt.

The targets are the ISA-18.2 (IEC 62682) performance table and EEMUA 191: average rate ~1 per 10 minutes
acceptable, ~2 maximum manageable; time in flood < 1 %; at most 10 in any 10 minutes; the top-10 bad actors
<= 5 % of the load; no chattering alarms; fewer than 5 stale alarms; priorities ~80/15/5 % low/medium/high. Where
the standards set no number (holds, time to acknowledge) the line has no target and is :attr:`Status.INFO`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.alarm_model import Priority
from app.kpi.model import (
    ACCEPTABLE_PER_10MIN,
    FLOOD_START,
    FLOOD_TARGET_SHARE,
    MANAGEABLE_PER_10MIN,
    PRIORITY_TARGET,
    KpiReport,
)

BAD_ACTOR_TARGET_SHARE = 0.05  # ISA-18.2: the top 10 make ~1-5 % of the load
STALE_TARGET = 5  # ISA-18.2: fewer than 5 stale alarms present on any day
PRIORITY_SLACK = 0.05  # the 80/15/5 split is a guide: medium or high more than 5 points over it is above target


class Status(StrEnum):
    """How a KPI stands: the word the screen and the PDF show beside it (never a colour alone)."""

    WITHIN = "within target"
    MANAGEABLE = "manageable"  # the rate between ~1 and ~2 per 10 minutes
    ABOVE = "above target"
    INFO = ""  # no target in the standards: a count to read


@dataclass(frozen=True, slots=True)
class KpiLine:
    key: str  # stable, for tests and lookups: "rate", "flood", ...
    name: str
    value: str
    target: str
    status: Status


def pct(share: float | None) -> str:
    """A share 0..1 as a percent for people: "0 %", "0.4 %", "12 %"; "-" for none."""
    if share is None:
        return "-"
    p = share * 100
    return f"{p:.1f} %" if 0 < p < 10 else f"{p:.0f} %"


def duration(seconds: float | None) -> str:
    """ "45 s", "4 min 05 s", "2 h 10 min"; "-" for none."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def _rate_status(mean: float) -> Status:
    if mean <= ACCEPTABLE_PER_10MIN:
        return Status.WITHIN
    return Status.MANAGEABLE if mean <= MANAGEABLE_PER_10MIN else Status.ABOVE


def _priority_status(r: KpiReport) -> Status:
    shares = {p.priority: p.share for p in r.priorities}
    if all(s is None for s in shares.values()):
        return Status.INFO
    over = any((shares.get(p) or 0.0) > PRIORITY_TARGET[p] + PRIORITY_SLACK for p in (Priority.MEDIUM, Priority.HIGH))
    return Status.ABOVE if over else Status.WITHIN


def kpi_lines(r: KpiReport) -> tuple[KpiLine, ...]:
    """Every KPI of ``r`` with its target and status, in the order a supervisor reads them."""
    def at_most(value: float, limit: float) -> Status:
        return Status.WITHIN if value <= limit else Status.ABOVE

    order = (Priority.LOW, Priority.MEDIUM, Priority.HIGH)
    shares = {p.priority: p.share for p in r.priorities}
    split = " / ".join(pct(shares.get(p)).replace(" %", "") for p in order) + " %"
    target_split = " / ".join(f"{PRIORITY_TARGET[p] * 100:.0f}" for p in order) + " %"
    h = r.held
    return (
        KpiLine("rate", "Alarms per 10 min (mean)", f"{r.rate.mean_per_10min:.2f}",
                f"<= {ACCEPTABLE_PER_10MIN:g} (max {MANAGEABLE_PER_10MIN:g})", _rate_status(r.rate.mean_per_10min)),
        KpiLine("flood", "Time in flood", pct(r.flood.time_share), f"< {pct(FLOOD_TARGET_SHARE)}",
                Status.WITHIN if r.flood.time_share < FLOOD_TARGET_SHARE else Status.ABOVE),
        KpiLine("floods", "Floods (periods > 10)",
                f"{len(r.flood.floods)} ({pct(r.flood.periods_over_10_share)})", "", Status.INFO),
        KpiLine("peak", "Peak in 10 min", str(r.rate.peak_10min), f"<= {FLOOD_START}",
                at_most(r.rate.peak_10min, FLOOD_START)),
        KpiLine("bad_actors", "Top 10 bad actors' share", pct(r.bad_actors.top_share),
                f"<= {pct(BAD_ACTOR_TARGET_SHARE)}",
                at_most(r.bad_actors.top_share, BAD_ACTOR_TARGET_SHARE) if r.rate.activations else Status.INFO),
        KpiLine("chattering", "Chattering alarms", str(len(r.chattering.sources)), "0",
                at_most(len(r.chattering.sources), 0)),
        KpiLine("stale", "Stale alarms (> 24 h)", str(len(r.stale)), f"< {STALE_TARGET}",
                Status.WITHIN if len(r.stale) < STALE_TARGET else Status.ABOVE),
        KpiLine("priorities", "Priority low / med / high", split, target_split, _priority_status(r)),
        KpiLine("activations", "Alarms (raised / activations)", f"{r.rate.alarms_raised} / {r.rate.activations}",
                "", Status.INFO),
        KpiLine("held", "Shelved / suppressed / OOS", f"{h.shelved} / {h.suppressed} / {h.out_of_service}", "",
                Status.INFO),
        KpiLine("held_end", "At the end: shelved / supp. / OOS / unack.",
                f"{h.shelved_at_end} / {h.suppressed_at_end} / {h.out_of_service_at_end} / {h.unacknowledged_at_end}",
                "", Status.INFO),
        KpiLine("ack", "Time to acknowledge: mean / p90", f"{duration(r.ack.mean_s)} / {duration(r.ack.p90_s)}", "",
                Status.INFO),
    )


__all__ = ["BAD_ACTOR_TARGET_SHARE", "PRIORITY_SLACK", "STALE_TARGET", "KpiLine", "Status", "duration", "kpi_lines",
           "pct"]
