"""Assembling a handover's content from the store: the shift review (app/shift_review.py), the KPIs and their
plot data (app/kpi), the logbook (app/logbook.py) and the plant's state at the shift end. Blocking, read-only
(a worker thread's job); every read is of the store alone, so the engine, the command line and the bench make the
same report from the same database.

"At the shift end" means at ``until``: the shift's end, or the moment of generating while the shift still runs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from app.alarm_states import AlarmState
from app.handover.content import (
    ActionLine,
    AssetCondition,
    AssetStatusLine,
    HandoverContent,
    LabelLine,
    LogLine,
    ShiftAlarm,
    StandingAlarm,
)
from app.kpi import kpi_report
from app.kpi.model import STALE_S
from app.kpi.plot_data import bad_actor_bars, rate_plot
from app.logbook import carried_over, logbook_entries
from app.shift_review import ShiftReview, shift_review
from app.shifts import Shift
from app.store import kpi_queries, schema

log = logging.getLogger(__name__)

NO_DATA_S = 600.0  # no stored sample in the last 10 minutes before the end: the asset's regime is unknown
_S, _A, _AS, _AUDIT = schema.samples, schema.alarms, schema.asset_settings, schema.audit_log


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who and what a report is for: not from the store."""

    gateway: str
    site: str
    generated_by: str
    generated_ts: float
    zone: ZoneInfo


def handover_content(db: Engine, shift: Shift, prov: Provenance) -> HandoverContent:
    """The handover of ``shift`` as it stands at ``prov.generated_ts`` (a running shift up to that moment)."""
    until = min(shift.end_ts, prov.generated_ts)
    if not until > shift.start_ts:
        raise ValueError(f"shift {shift.label} has not begun at {prov.generated_ts:.0f}; allowed: a shift that has "
                         "started (the current one or an earlier one)")
    review = shift_review(db, shift.start_ts, shift.end_ts, now=until)
    kpi = kpi_report(db, shift.start_ts, until)
    with kpi_queries.read_snapshot(db) as c:
        standing = _open_and_standing(c, review, until)
        assets = _plant_status(c, review, standing, until)
    logbook, carried, available = _logbook(db, shift.start_ts, until)
    messages = {a.alarm_id: a.message for a in review.alarms} | {s.alarm_id: s.title for s in standing}
    missing = ({x.alarm_id for x in review.actions} | {x.alarm_id for x in review.labels}) - messages.keys()
    if missing:
        messages |= _messages(db, missing)
    return HandoverContent(
        gateway=prov.gateway, site=prov.site, shift_label=shift.label, shift_start=shift.start_ts,
        shift_end=shift.end_ts, covered_until=until, generated_ts=prov.generated_ts,
        generated_by=prov.generated_by, zone=prov.zone, assets=assets, standing=standing,
        alarms=tuple(ShiftAlarm(a.alarm_id, a.source.asset, a.message, a.priority, a.raised_ts, a.last_cleared_ts,
                                a.state_at_end) for a in review.alarms if a.raised_in_shift),
        actions=tuple(ActionLine(x.ts, x.by, x.event, x.asset, messages.get(x.alarm_id, x.asset), x.note)
                      for x in review.actions),
        labels=tuple(LabelLine(x.ts, x.by, x.asset, messages.get(x.alarm_id, x.asset), x.verdict, x.failure_mode,
                               correction=x.correction, note=x.note) for x in review.labels),
        logbook=logbook, carried_over=carried, logbook_available=available,
        kpi=kpi, rate=rate_plot(kpi), bad_actors=bad_actor_bars(kpi))


def _open_and_standing(c: Connection, review: ShiftReview, until: float) -> tuple[StandingAlarm, ...]:
    """Alarms whose condition was active at the end (with how long), and those the review found standing
    (unacknowledged, shelved, suppressed, out of service, stale); most urgent first, then longest."""
    active = {a.alarm_id: a for a in kpi_queries.active_since(c, until, until)}
    standing = {s.alarm_id: s for s in review.standing}
    ids = active.keys() | standing.keys()
    info = {r.id: r for r in c.execute(select(_A.c.id, _A.c.message, _A.c.raised_ts).where(_A.c.id.in_(ids)))} \
        if ids else {}
    out = []
    for alarm_id in ids:
        a, s, r = active.get(alarm_id), standing.get(alarm_id), info.get(alarm_id)
        if r is None:
            continue
        since = a.active_since if a is not None else (s.active_since if s and s.active_since else r.raised_ts)
        reasons = (("active",) if a is not None else ()) + tuple(
            sorted(x.value for x in (s.reasons if s is not None else ())))
        state = s.state if s is not None else a.state if a is not None else AlarmState.NORM
        src = a.source if a is not None else s.source  # type: ignore[union-attr]  # one of them is set
        priority = a.priority if a is not None else s.priority  # type: ignore[union-attr]
        out.append(StandingAlarm(alarm_id, src.asset, r.message, priority, state, a is not None, since,
                                 until - since, a is not None and until - since > STALE_S, reasons))
    return tuple(sorted(out, key=lambda x: (-x.priority.rank, x.since_ts, x.alarm_id)))


def _assets(c: Connection, until: float) -> set[str]:
    """Every asset the store knows: those with samples (one index probe each: a loose scan of ix_samples_asset_ts,
    not a pass over millions of rows), alarms or settings."""
    names: set[str] = set()
    last: str | None = ""
    while last is not None:
        last = c.execute(select(func.min(_S.c.asset)).where(_S.c.asset > last)).scalar()
        if last is not None:
            names.add(last)
    names |= set(c.execute(select(_AS.c.asset)).scalars())
    names |= set(c.execute(select(_A.c.asset).where(_A.c.raised_ts < until).distinct()).scalars())
    return names


def _regime(c: Connection, asset: str, until: float) -> str | None:
    row = c.execute(select(_S.c.ts, _S.c.regime).where(_S.c.asset == asset, _S.c.ts < until)
                    .order_by(_S.c.ts.desc()).limit(1)).first()
    return None if row is None or until - row.ts > NO_DATA_S else str(row.regime)


def _out_of_service(c: Connection, until: float) -> set[str]:
    """Assets out of service at ``until``: the stored setting if it has not changed since, else the latest
    out-of-service / return-to-service audit row before ``until`` (the setting's history)."""
    out: set[str] = set()
    later: list[str] = []
    for r in c.execute(select(_AS.c.asset, _AS.c.out_of_service, _AS.c.changed_ts)):
        if r.changed_ts is None or r.changed_ts < until:
            if r.out_of_service:
                out.add(r.asset)
        else:
            later.append(r.asset)
    for asset in later:
        q = (select(_AUDIT.c.action).where(_AUDIT.c.action.in_(("out of service", "return to service")),
                                          _AUDIT.c.ts < until,
                                          func.json_extract(_AUDIT.c.detail, "$.asset") == asset)
             .order_by(_AUDIT.c.ts.desc(), _AUDIT.c.id.desc()).limit(1))
        if c.execute(q).scalar() == "out of service":
            out.add(asset)
    return out


def _plant_status(c: Connection, review: ShiftReview, standing: tuple[StandingAlarm, ...], until: float
                  ) -> tuple[AssetStatusLine, ...]:
    oos = _out_of_service(c, until)
    lines = []
    for asset in sorted(_assets(c, until) | {s.asset for s in standing}):
        mine = [s for s in standing if s.asset == asset]
        regime = _regime(c, asset, until)
        unacked = sum(s.state.unacknowledged for s in mine)
        shelved = sum(s.state is AlarmState.SHLVD for s in mine)
        suppressed = sum(s.state is AlarmState.DSUPR for s in mine)
        out = asset in oos or any(s.state is AlarmState.OOSRV for s in mine)
        condition = (AssetCondition.OUT_OF_SERVICE if out else
                     AssetCondition.ALARM if any(s.state.annunciated for s in mine) else
                     AssetCondition.HELD if mine else
                     AssetCondition.NO_DATA if regime is None else AssetCondition.NORMAL)
        lines.append(AssetStatusLine(asset, condition, regime, len(mine), unacked, shelved, suppressed, out))
    return tuple(lines)


def _messages(db: Engine, ids: set[str]) -> dict[str, str]:
    with db.connect() as c:
        return dict(c.execute(select(_A.c.id, _A.c.message).where(_A.c.id.in_(sorted(ids)))).tuples().all())


def _logbook(db: Engine, start: float, until: float) -> tuple[tuple[LogLine, ...], tuple[LogLine, ...], bool]:
    """The logbook's entries of the shift, and the flagged entries of earlier shifts still not cleared at its end
    (app/logbook.py: carried over into every handover until someone clears the flag)."""
    written = tuple(LogLine(e.ts, e.user, e.text, e.asset, carried_over=False,
                            flagged=e.carry_over and (e.cleared_ts is None or e.cleared_ts > until))
                    for e in logbook_entries(db, start, until))
    carried = tuple(LogLine(e.ts, e.user, e.text, e.asset, carried_over=True, flagged=True)
                    for e in carried_over(db, until) if e.ts < start)
    return written, carried, True


__all__ = ["NO_DATA_S", "Provenance", "handover_content"]
