"""The store's side of the KPIs (app/kpi): SQLAlchemy Core reads that return numpy arrays or grouped rows, so no
KPI is computed by a Python loop over alarms or events. Read-only and blocking (a worker thread's job), on a
connection the caller opens (one per report) inside one read transaction (:func:`read_snapshot`), so that the
statements of one report see the same data while the writer goes on.

An activation is an ``alarm_events`` row ``raised`` or ``reactivated``; its ``state`` column is the state SHOWN
after it, so an activation while shelved, suppressed or out of service has a held state (not annunciated).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, literal, select

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.kpi.model import AlarmSource
from app.store import schema

_A, _E, _L = schema.alarms, schema.alarm_events, schema.labels
_ACTIVATIONS = (AlarmEvent.RAISED.value, AlarmEvent.REACTIVATED.value)
_HELD = tuple(s.value for s in AlarmState if s.held)
_RANK = case({p.value: p.rank for p in Priority}, value=_A.c.priority, else_=0)
WIDE_S = 2 * 86_400.0


def _event_ts(since: float, until: float) -> ColumnElement[float]:
    """``alarm_events.ts`` for a range filter. Over a wide range (most of the table) reading the table straight
    through is ~2x faster than the time index plus a row lookup each; ``ts + 0`` keeps SQLite off the index
    (it has no statistics to decide this itself)."""
    return _E.c.ts + 0 if until - since > WIDE_S else _E.c.ts


@dataclass(frozen=True, slots=True)
class Activations:
    """Every activation in ``[since, until)``, oldest first, as parallel arrays; ``source`` indexes ``sources``."""

    ts: np.ndarray  # float64
    source: np.ndarray  # int64
    rank: np.ndarray  # int8: Priority.rank (1 low .. 3 high)
    raised: np.ndarray  # bool: a new alarm (not a re-activation)
    held: np.ndarray  # bool: raised/re-activated while shelved, suppressed or out of service
    sources: tuple[AlarmSource, ...]


@contextmanager
def read_snapshot(db: Engine) -> Iterator[Connection]:
    """A connection inside one SQLite read transaction (WAL: the writer is never blocked). pysqlite begins a
    transaction only before a write, so the BEGIN is explicit; returning the connection to the pool rolls it back."""
    with db.connect() as c:
        c.exec_driver_sql("BEGIN")
        yield c


def activations(c: Connection, since: float, until: float) -> Activations:
    diag = func.coalesce(_A.c.diagnostic, literal(""))
    # Only alarms that can have an activation in the range (raised before its end, last active after its start),
    # each with its source's number; their events are then one index range each (ix_alarm_events_alarm_ts).
    alarm = (select(_A.c.id, _A.c.asset, _A.c.kind, diag.label("diag"), _RANK.label("rank"),
                    (func.dense_rank().over(order_by=(_A.c.asset, _A.c.kind, diag)) - 1).label("code"))
             .where(_A.c.raised_ts < until, _A.c.last_active_ts >= since).cte("alarm"))
    # One integer per activation (source << 4 | rank << 2 | raised << 1 | held): two columns cross the driver,
    # not five (each value costs a Python object on the way).
    raised = case((_E.c.event == AlarmEvent.RAISED.value, 2), else_=0)
    held = case((_E.c.state.in_(_HELD), 1), else_=0)
    packed = alarm.c.code * 16 + alarm.c.rank * 4 + raised + held
    rows = c.execute(
        select(_E.c.ts, packed).select_from(alarm.join(_E, _E.c.alarm_id == alarm.c.id))
        .where(_E.c.event.in_(_ACTIVATIONS), _E.c.ts >= since, _E.c.ts < until)).all()
    # The same candidates grouped in the window's order are the codes' sources (a GROUP BY costs a third of a
    # second pass over the CTE). Both statements must see one snapshot: the caller holds a read transaction.
    sources = tuple(AlarmSource(r.asset, AlarmKind(r.kind), r.diag or None) for r in c.execute(
        select(_A.c.asset, _A.c.kind, diag.label("diag")).where(_A.c.raised_ts < until, _A.c.last_active_ts >= since)
        .group_by(_A.c.asset, _A.c.kind, diag).order_by(_A.c.asset, _A.c.kind, diag)))
    # numpy reads Row objects through the sequence protocol one item at a time (~80 us a row): chain them flat
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=2 * len(rows)).reshape(-1, 2)
    flat = flat[np.argsort(flat[:, 0], kind="stable")]
    ts, bits = flat[:, 0].copy(), flat[:, 1].astype(np.int64)
    return Activations(ts, bits >> 4, ((bits >> 2) & 3).astype(np.int8), (bits & 2) > 0, (bits & 1) > 0, sources)


def ack_delays(c: Connection, since: float, until: float) -> np.ndarray:
    """Seconds from the alarm's latest activation to each acknowledgement in ``[since, until)`` (float64)."""
    act = _E.alias("act")
    latest = (select(func.max(act.c.ts))
              .where(act.c.alarm_id == _E.c.alarm_id, act.c.event.in_(_ACTIVATIONS), act.c.ts <= _E.c.ts)
              .correlate(_E).scalar_subquery())
    delay = func.coalesce(_E.c.ts - latest, -1.0)  # -1: no activation before it (a damaged trail); never < 0
    ts = _event_ts(since, until)
    rows = c.execute(select(delay).where(_E.c.event == AlarmEvent.ACKNOWLEDGED.value, ts >= since,
                                         ts < until)).scalars()
    delays = np.fromiter(rows, dtype=np.float64)
    return delays[delays >= 0]


def hold_events(c: Connection, since: float, until: float) -> dict[AlarmEvent, int]:
    """How many shelve, suppress and out-of-service events fell in ``[since, until)``."""
    holds = (AlarmEvent.SHELVED.value, AlarmEvent.SUPPRESSED.value, AlarmEvent.OUT_OF_SERVICE.value)
    ts = _event_ts(since, until)
    q = select(_E.c.event, func.count()).where(_E.c.event.in_(holds), ts >= since, ts < until).group_by(_E.c.event)
    return {AlarmEvent(e): int(n) for e, n in c.execute(q)}


def states_at(c: Connection, at: float) -> dict[AlarmState, int]:
    """How many alarms were in each state just before ``at`` (the state after their latest event before it)."""
    # An alarm with no event since ``at`` is still in the state it was then: its stored row says it (the alarm
    # manager writes the row with every event). Only the others need their event trail (ix_alarm_events_ts).
    changed = select(_E.c.alarm_id).where(_E.c.ts >= at).distinct()
    out: dict[AlarmState, int] = {}
    q = (select(_A.c.state, func.count()).where(_A.c.raised_ts < at, _A.c.id.not_in(changed))
         .group_by(_A.c.state))
    for s, n in c.execute(q):
        out[AlarmState(s)] = out.get(AlarmState(s), 0) + int(n)
    latest = (select(_E.c.state).where(_E.c.alarm_id == _A.c.id, _E.c.ts < at)
              .order_by(_E.c.ts.desc(), _E.c.id.desc()).limit(1).correlate(_A).scalar_subquery())
    inner = select(latest.label("st")).where(_A.c.raised_ts < at, _A.c.id.in_(changed)).subquery()
    for s, n in c.execute(select(inner.c.st, func.count()).where(inner.c.st.is_not(None)).group_by(inner.c.st)):
        out[AlarmState(s)] = out.get(AlarmState(s), 0) + int(n)
    return out


@dataclass(frozen=True, slots=True)
class ActiveSince:
    alarm_id: str
    source: AlarmSource
    priority: Priority
    active_since: float
    state: AlarmState


def active_since(c: Connection, at: float, before: float) -> list[ActiveSince]:
    """Alarms active (condition true) just before ``at`` whose latest activation was at or before ``before``."""
    act = _E.alias("act")
    clr = _E.alias("clr")
    st = _E.alias("st")
    last_act = (select(func.max(act.c.ts)).where(act.c.alarm_id == _A.c.id, act.c.event.in_(_ACTIVATIONS),
                                                 act.c.ts < at).correlate(_A).scalar_subquery())
    last_clear = (select(func.max(clr.c.ts)).where(clr.c.alarm_id == _A.c.id,
                                                   clr.c.event == AlarmEvent.CLEARED.value, clr.c.ts < at)
                  .correlate(_A).scalar_subquery())
    state = (select(st.c.state).where(st.c.alarm_id == _A.c.id, st.c.ts < at)
             .order_by(st.c.ts.desc(), st.c.id.desc()).limit(1).correlate(_A).scalar_subquery())
    # cleared_ts is the LATEST clear (a re-activation empties it): cleared before ``before`` means quiet since.
    inner = (select(_A.c.id, _A.c.asset, _A.c.kind, _A.c.diagnostic, _A.c.priority, last_act.label("since"),
                    last_clear.label("cleared"), state.label("state"))
             .where(_A.c.raised_ts <= before, (_A.c.cleared_ts.is_(None)) | (_A.c.cleared_ts > before))
             .subquery())
    q = (select(inner).where(inner.c.since <= before, inner.c.since.is_not(None),
                             (inner.c.cleared.is_(None)) | (inner.c.cleared < inner.c.since))
         .order_by(inner.c.since, inner.c.id))
    return [ActiveSince(r.id, AlarmSource(r.asset, AlarmKind(r.kind), r.diagnostic), Priority(r.priority),
                        float(r.since), AlarmState(r.state)) for r in c.execute(q)]


@dataclass(frozen=True, slots=True)
class LabelGroup:
    """Anomaly alarms raised in the range with the same asset, cloud verdict and latest label: ``n`` of them."""

    asset: str
    cloud_state: str
    cloud_failure_mode: str | None
    verdict: str
    failure_mode: str | None
    n: int


def label_groups(c: Connection, since: float, until: float) -> tuple[list[LabelGroup], int]:
    """The latest label of each anomaly alarm raised in ``[since, until)``, grouped; and how many such alarms there
    are in all (labelled or not)."""
    latest = select(func.max(_L.c.id)).where(_L.c.alarm_id == _A.c.id).correlate(_A).scalar_subquery()
    in_range = and_(_A.c.kind == AlarmKind.ANOMALY.value, _A.c.raised_ts >= since, _A.c.raised_ts < until)
    cols = (_A.c.asset, _A.c.cloud_state, _A.c.cloud_failure_mode, _L.c.verdict, _L.c.failure_mode)
    q = (select(*cols, func.count()).select_from(_A.join(_L, _L.c.id == latest)).where(in_range)
         .group_by(*cols))
    groups = [LabelGroup(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in c.execute(q)]
    total = int(c.execute(select(func.count()).select_from(_A).where(in_range)).scalar_one())
    return groups, total


__all__ = ["ActiveSince", "Activations", "LabelGroup", "ack_delays", "activations", "active_since", "hold_events",
           "label_groups", "read_snapshot", "states_at"]
