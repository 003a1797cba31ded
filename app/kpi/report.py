"""The KPI set for one range, group by group (each group is one function, so the bench can time it alone)."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from sqlalchemy import Connection, Engine

from app.alarm_model import AlarmEvent
from app.alarm_states import AlarmState
from app.kpi import load
from app.kpi.model import (
    FLOOD_START,
    PERIOD_S,
    STALE_S,
    AckKpi,
    AlarmRate,
    BadActors,
    ChatteringKpi,
    CloudAgreementKpi,
    FloodKpi,
    HeldKpi,
    KpiReport,
    ModelPrecisionKpi,
    PrecisionGroup,
    PriorityShare,
    StaleAlarm,
)
from app.store import kpi_queries

# How far before the range the flood state is rebuilt from: a flood running at the start is seen (and its end
# found) when it began in this hour; a sliding count that stayed between 5 and 10 for over an hour before the
# range is taken as "no flood".
FLOOD_LEAD_S = 3600.0
MAX_RANGE_S = 400 * 86_400.0

T = TypeVar("T")


class KpiRangeError(ValueError):
    """The range asked for is not a range (end before start, not finite, too long); the message says what is."""


def check_range(start: float, end: float) -> None:
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, int | float) or not math.isfinite(v):
            raise KpiRangeError(f"KPI range {name} {v!r} is not a time; allowed: finite epoch seconds")
    if end <= start:
        raise KpiRangeError(f"KPI range ends ({end}) at or before it starts ({start}); allowed: start < end")
    if end - start > MAX_RANGE_S:
        raise KpiRangeError(f"KPI range of {(end - start) / 86400:.1f} days; allowed at most "
                            f"{MAX_RANGE_S / 86400:.0f} days")


@dataclass(frozen=True, slots=True)
class LoadKpis:
    rate: AlarmRate
    flood: FloodKpi
    bad_actors: BadActors
    chattering: ChatteringKpi
    priorities: tuple[PriorityShare, ...]


def load_kpis(c: Connection, start: float, end: float) -> LoadKpis:
    """Rate, floods, bad actors, chattering, priority split: from one read of the activations."""
    acts = kpi_queries.activations(c, start - FLOOD_LEAD_S, end)
    annunciated = ~acts.held
    in_range = acts.ts >= start
    now = in_range & annunciated
    ts, source = acts.ts[now], acts.source[now]
    rate = load.alarm_rate(ts, int(acts.raised[now].sum()), int((in_range & acts.held).sum()), start, end)
    counts = np.asarray(rate.series.counts)
    return LoadKpis(rate=rate, flood=load.flood_kpi(acts.ts[annunciated], start, end, counts),
                    bad_actors=load.bad_actors(source, acts.sources),
                    chattering=load.chattering(ts, source, acts.sources, start, end),
                    priorities=load.priority_split(acts.rank[now], acts.raised[now]))


def stale_alarms(c: Connection, end: float) -> tuple[StaleAlarm, ...]:
    """Alarms active at the range end for more than 24 h, longest first."""
    rows = kpi_queries.active_since(c, end, end - STALE_S)
    return tuple(StaleAlarm(r.alarm_id, r.source, r.priority, r.active_since, end - r.active_since, r.state)
                 for r in rows if end - r.active_since > STALE_S)


def held_kpi(c: Connection, start: float, end: float) -> HeldKpi:
    events = kpi_queries.hold_events(c, start, end)
    states = kpi_queries.states_at(c, end)
    return HeldKpi(
        shelved=events.get(AlarmEvent.SHELVED, 0), suppressed=events.get(AlarmEvent.SUPPRESSED, 0),
        out_of_service=events.get(AlarmEvent.OUT_OF_SERVICE, 0), shelved_at_end=states.get(AlarmState.SHLVD, 0),
        suppressed_at_end=states.get(AlarmState.DSUPR, 0), out_of_service_at_end=states.get(AlarmState.OOSRV, 0),
        unacknowledged_at_end=sum(n for s, n in states.items() if s.unacknowledged))


def ack_kpi(c: Connection, start: float, end: float) -> AckKpi:
    d = kpi_queries.ack_delays(c, start, end)
    if d.size == 0:
        return AckKpi(0, None, None, None)
    return AckKpi(int(d.size), float(d.mean()), float(np.percentile(d, 90)), float(d.max()))


def label_kpis(c: Connection, start: float, end: float) -> tuple[ModelPrecisionKpi, CloudAgreementKpi]:
    """Precision and cloud agreement from the grouped latest labels (a loop over groups, not alarms)."""
    groups, total = kpi_queries.label_groups(c, start, end)
    tallies: dict[tuple[str, str], list[int]] = {}  # (dimension, key) -> [failures, false alarms, unsure]
    compared = agreed = no_verdict = modes_compared = modes_agreed = 0
    verdict_index = {"failure": 0, "false_alarm": 1, "unsure": 2}
    for g in groups:
        i = verdict_index.get(g.verdict)
        if i is None:
            continue  # a word no version of Vigil writes; not a judgement
        for key in (("all", ""), ("asset", g.asset), ("mode", g.cloud_failure_mode or "none")):
            tallies.setdefault(key, [0, 0, 0])[i] += g.n
        if i == 2:
            continue
        if g.cloud_state in ("confirmed", "not_confirmed"):
            compared += g.n
            agreed += g.n if (g.cloud_state == "confirmed") == (i == 0) else 0
            if g.cloud_state == "confirmed" and i == 0:
                modes_compared += g.n
                modes_agreed += g.n if g.cloud_failure_mode == g.failure_mode else 0
        else:
            no_verdict += g.n

    def group(dim: str, key: str) -> PrecisionGroup:
        f, fa, u = tallies.get((dim, key), [0, 0, 0])
        return PrecisionGroup(key or "all", f, fa, u)

    overall = group("all", "")
    labelled = overall.failures + overall.false_alarms + overall.unsure
    by = {dim: tuple(group(dim, k) for d, k in sorted(tallies) if d == dim) for dim in ("asset", "mode")}
    return (ModelPrecisionKpi(overall, by["asset"], by["mode"], total - labelled),
            CloudAgreementKpi(compared, agreed, no_verdict, modes_compared, modes_agreed))


def kpi_report(db: Engine, start: float, end: float, timings: dict[str, float] | None = None) -> KpiReport:
    """Every KPI of ``[start, end)``; ``timings`` (if given) receives the seconds each group took."""
    check_range(start, end)

    def timed(name: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        out = fn()
        if timings is not None:
            timings[name] = time.perf_counter() - t0
        return out

    with kpi_queries.read_snapshot(db) as c:
        lk = timed("load", lambda: load_kpis(c, start, end))
        stale = timed("stale", lambda: stale_alarms(c, end))
        held = timed("held", lambda: held_kpi(c, start, end))
        ack = timed("ack", lambda: ack_kpi(c, start, end))
        precision, cloud = timed("labels", lambda: label_kpis(c, start, end))
    return KpiReport(start, end, lk.rate, lk.flood, lk.bad_actors, lk.chattering, lk.priorities, stale, held, ack,
                     precision, cloud)


__all__ = ["FLOOD_LEAD_S", "FLOOD_START", "PERIOD_S", "KpiRangeError", "LoadKpis", "ack_kpi", "check_range",
           "held_kpi", "kpi_report", "label_kpis", "load_kpis", "stale_alarms"]
