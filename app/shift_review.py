"""What happened in one shift, for the Shift screen and the handover report: the alarms raised and cleared per
asset, every operator action with who and when, the labels given, the time to acknowledge, and what was standing
at the shift's END (its state then, not now).

Use (blocking, a worker thread's job; about 0.1 s for one 8-h shift of a 50-pump station, ``bench/bench_shift.py``)::

    from app.shift_review import shift_review
    review = shift_review(db, shift.start_ts, shift.end_ts, now=time.time())

A shift still running is reviewed up to ``now`` (``review.until``): "standing at the end" is then standing now.

Definitions (the rest are the KPIs', app/kpi, reused rather than redefined):

- **Raised / reactivated / cleared** in the shift: ``alarm_events`` rows ``raised``, ``reactivated``, ``cleared``
  with ``start <= ts < until``, per asset and per alarm.
- **Action**: every acknowledge, shelve (timed or until cleared), unshelve, suppress/unsuppress, out of service and
  return to service event in the shift (``by`` is the user; None for the system: a shelving that expired or ended on
  clear, a suppression by design), and every label given (:class:`LabelGiven`; a later label of the same alarm is a
  correction). An operator's comment is the note on the action (acknowledge, shelve, out of service, label).
- **Time to acknowledge** (:class:`Acknowledgement`): seconds from the alarm's latest activation at or before the
  acknowledgement; mean/p90 are the KPI's (:func:`app.kpi.ack_kpi`, one definition).
- **Standing at the end** (:class:`StandingAlarm`, :class:`StandingReason`): an alarm's state at ``until`` (after
  its latest event before it) is UNACK/RTNUN (unacknowledged), SHLVD (shelved), DSUPR (suppressed), OOSRV (out of
  service); or its condition had been active for more than 24 h (stale: :func:`app.kpi.stale_alarms`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, select

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.kpi import AckKpi, AlarmSource, ack_kpi, stale_alarms
from app.kpi.report import check_range
from app.labels import Verdict
from app.store import schema
from app.store.kpi_queries import read_snapshot
from detection.failure_modes import FailureMode

log = logging.getLogger(__name__)

_A, _E, _L = schema.alarms, schema.alarm_events, schema.labels
E = AlarmEvent
_ACTIVATIONS = frozenset({E.RAISED, E.REACTIVATED})
ACTION_EVENTS = frozenset({E.ACKNOWLEDGED, E.SHELVED, E.SHELVED_UNTIL_CLEARED, E.UNSHELVED, E.UNSHELVED_ON_CLEAR,
                           E.SHELVING_EXPIRED, E.SUPPRESSED, E.UNSUPPRESSED, E.OUT_OF_SERVICE,
                           E.RETURNED_TO_SERVICE})


class StandingReason(StrEnum):
    """Why an alarm was standing at the shift's end (one alarm can have two: unacknowledged and stale)."""

    UNACKNOWLEDGED = "unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out of service"
    STALE = "stale"


_REASON_OF_STATE = {AlarmState.UNACK: StandingReason.UNACKNOWLEDGED, AlarmState.RTNUN: StandingReason.UNACKNOWLEDGED,
                    AlarmState.SHLVD: StandingReason.SHELVED, AlarmState.DSUPR: StandingReason.SUPPRESSED,
                    AlarmState.OOSRV: StandingReason.OUT_OF_SERVICE}
_STANDING_STATES = tuple(s.value for s in _REASON_OF_STATE)


@dataclass(frozen=True, slots=True)
class ShiftAlarm:
    """An alarm with activity in the shift: raised in it (``raised_in_shift``) or before it and re-activated or
    cleared in it. ``activations``: raised + re-activated in the shift; ``state_at_end``: after its latest event
    before the shift's end."""

    alarm_id: str
    source: AlarmSource
    priority: Priority
    message: str
    raised_ts: float
    raised_in_shift: bool
    activations: int
    cleared: int
    last_cleared_ts: float | None
    state_at_end: AlarmState


@dataclass(frozen=True, slots=True)
class AssetActivity:
    """One asset's alarms in the shift: new alarms raised, re-activations of alarms, clears."""

    asset: str
    raised: int
    reactivated: int
    cleared: int


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """One action on one alarm (``by`` None: the system or the design, e.g. a shelving that expired)."""

    ts: float
    by: str | None
    event: AlarmEvent
    alarm_id: str
    asset: str
    note: str | None
    state_after: AlarmState


@dataclass(frozen=True, slots=True)
class LabelGiven:
    """A technician's label given in the shift; ``correction``: the alarm had a label before this one."""

    ts: float
    by: str
    alarm_id: str
    asset: str
    verdict: Verdict
    failure_mode: FailureMode | None
    note: str | None
    correction: bool


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    ts: float
    by: str | None
    alarm_id: str
    asset: str
    priority: Priority
    delay_s: float | None  # since its latest activation; None when its trail has none before (a damaged trail)


@dataclass(frozen=True, slots=True)
class StandingAlarm:
    """An alarm standing at the shift's end; ``active_since`` (its latest activation) is set for a stale one."""

    alarm_id: str
    source: AlarmSource
    priority: Priority
    message: str
    raised_ts: float
    state: AlarmState
    reasons: frozenset[StandingReason]
    active_since: float | None = None


@dataclass(frozen=True, slots=True)
class ShiftReview:
    """``[start, end)`` is the shift; ``until`` (<= end) is how far it was reviewed (now, for a running shift:
    what happened at ``until`` itself is in it)."""

    start: float
    end: float
    until: float
    assets: tuple[AssetActivity, ...]  # by asset name, only assets with activity
    alarms: tuple[ShiftAlarm, ...]  # oldest raised first
    actions: tuple[OperatorAction, ...]  # oldest first
    labels: tuple[LabelGiven, ...]  # oldest first
    acknowledgements: tuple[Acknowledgement, ...]  # oldest first
    ack: AckKpi  # mean / p90 / max time to acknowledge (the KPI's)
    standing: tuple[StandingAlarm, ...]  # most urgent first, then oldest raised

    @property
    def running(self) -> bool:
        return self.until < self.end

    def standing_for(self, reason: StandingReason) -> tuple[StandingAlarm, ...]:
        return tuple(s for s in self.standing if reason in s.reasons)

    def standing_counts(self) -> dict[StandingReason, int]:
        """Every reason with its count (0 included, in the enum's order)."""
        return {r: sum(1 for s in self.standing if r in s.reasons) for r in StandingReason}


def shift_review(db: Engine, start: float, end: float, *, now: float | None = None) -> ShiftReview:
    """Review ``[start, end)`` (up to ``now`` if the shift is still running; a ``now`` at or before ``start``
    reviews the shift's first moment: nothing in it yet, what stood then). Raises :class:`app.kpi.KpiRangeError` for
    a range that is not one (end <= start, not finite, too long)."""
    check_range(start, end)
    until = end if now is None or not math.isfinite(now) else max(start, min(end, now))
    # A running shift is read up to AND including now: an action stamped this very moment (a plant clock that
    # stands still once a replay ends) is part of it. A finished shift ends before its end, [start, end).
    upto = math.nextafter(until, math.inf) if until < end else end
    with read_snapshot(db) as c:
        rows = _shift_events(c, start, upto)
        alarms, assets, actions, acks, missing = _fold(rows, start)
        if missing:
            acks = _fill_delays(c, acks, missing, start)
        labels = _labels(c, start, upto)
        ack = ack_kpi(c, start, upto)
        standing = _standing(c, upto)
    return ShiftReview(start, end, until, assets, alarms, actions, labels, acks, ack, standing)


# -- the shift's events -----------------------------------------------------------------------------------------
def _shift_events(c: Connection, start: float, until: float) -> list[Any]:
    """Every event in ``[start, until)`` with its alarm (ix_alarm_events_ts, then the alarm's primary key)."""
    q = (select(_E.c.id, _E.c.ts, _E.c.event, _E.c.state, _E.c.user, _E.c.note, _E.c.alarm_id, _A.c.asset,
                _A.c.kind, _A.c.diagnostic, _A.c.priority, _A.c.message, _A.c.raised_ts)
         .select_from(_E.join(_A, _A.c.id == _E.c.alarm_id))
         .where(_E.c.ts >= start, _E.c.ts < until).order_by(_E.c.ts, _E.c.id))
    return list(c.execute(q))


def _source(r: Any) -> AlarmSource:
    return AlarmSource(r.asset, AlarmKind(r.kind), r.diagnostic or None)


@dataclass
class _AlarmTally:
    row: Any
    activations: int = 0
    cleared: int = 0
    last_cleared: float | None = None
    state: AlarmState = AlarmState.NORM
    last_activation: float | None = None


def _fold(rows: list[Any], start: float) -> tuple[tuple[ShiftAlarm, ...], tuple[AssetActivity, ...],
                                                   tuple[OperatorAction, ...], tuple[Acknowledgement, ...], set[str]]:
    """One pass over the shift's events (oldest first). ``missing``: acknowledged alarms with no activation in
    the shift before the acknowledgement (their delay needs the trail before the shift)."""
    tallies: dict[str, _AlarmTally] = {}
    per_asset: dict[str, list[int]] = {}  # raised, reactivated, cleared
    actions: list[OperatorAction] = []
    acks: list[Acknowledgement] = []
    missing: set[str] = set()
    for r in rows:
        event = _event(r.event)
        if event is None:
            continue
        t = tallies.get(r.alarm_id)
        if t is None:
            t = tallies[r.alarm_id] = _AlarmTally(r)
        t.state = AlarmState(r.state)
        counts = per_asset.setdefault(r.asset, [0, 0, 0])
        if event in _ACTIVATIONS:
            t.activations += 1
            t.last_activation = r.ts
            counts[0 if event is E.RAISED else 1] += 1
        elif event is E.CLEARED:
            t.cleared += 1
            t.last_cleared = r.ts
            counts[2] += 1
        if event in ACTION_EVENTS:
            actions.append(OperatorAction(r.ts, r.user, event, r.alarm_id, r.asset, r.note, AlarmState(r.state)))
        if event is E.ACKNOWLEDGED:
            delay = None if t.last_activation is None else r.ts - t.last_activation
            if delay is None:
                missing.add(r.alarm_id)
            acks.append(Acknowledgement(r.ts, r.user, r.alarm_id, r.asset, Priority(r.priority), delay))
    alarms = [ShiftAlarm(a, _source(t.row), Priority(t.row.priority), t.row.message, t.row.raised_ts,
                         t.row.raised_ts >= start, t.activations, t.cleared, t.last_cleared, t.state)
              for a, t in tallies.items() if t.activations or t.cleared]
    alarms.sort(key=lambda s: (s.raised_ts, s.alarm_id))
    assets = tuple(AssetActivity(a, *n) for a, n in sorted(per_asset.items()) if any(n))
    return tuple(alarms), assets, tuple(actions), tuple(acks), missing


def _event(word: str) -> AlarmEvent | None:
    try:
        return AlarmEvent(word)
    except ValueError:
        log.warning("alarm event %r is not one Vigil writes; left out of the shift review", word[:40])
        return None


def _fill_delays(c: Connection, acks: tuple[Acknowledgement, ...], missing: set[str], start: float
                 ) -> tuple[Acknowledgement, ...]:
    """The delays of acknowledgements whose activation was before the shift (ix_alarm_events_alarm_ts)."""
    q = (select(_E.c.alarm_id, func.max(_E.c.ts))
         .where(_E.c.alarm_id.in_(sorted(missing)), _E.c.ts < start,
                _E.c.event.in_([e.value for e in _ACTIVATIONS]))
         .group_by(_E.c.alarm_id))
    before = {a: float(ts) for a, ts in c.execute(q)}
    out = []
    for k in acks:
        if k.delay_s is None and k.alarm_id in before:
            k = Acknowledgement(k.ts, k.by, k.alarm_id, k.asset, k.priority, k.ts - before[k.alarm_id])
        out.append(k)
    return tuple(out)


def _labels(c: Connection, start: float, until: float) -> tuple[LabelGiven, ...]:
    earlier = _L.alias("earlier")
    correction = exists().where(earlier.c.alarm_id == _L.c.alarm_id, earlier.c.id < _L.c.id)
    q = (select(_L.c.ts, _L.c.user, _L.c.alarm_id, _A.c.asset, _L.c.verdict, _L.c.failure_mode, _L.c.note,
                correction.label("correction"))
         .select_from(_L.join(_A, _A.c.id == _L.c.alarm_id))
         .where(_L.c.ts >= start, _L.c.ts < until).order_by(_L.c.ts, _L.c.id))
    out = []
    for r in c.execute(q):
        try:
            verdict = Verdict(r.verdict)
            mode = FailureMode(r.failure_mode) if r.failure_mode else None
        except ValueError:
            log.warning("label on alarm %r has a verdict or mode Vigil does not write; left out", r.alarm_id[:40])
            continue
        out.append(LabelGiven(r.ts, r.user, r.alarm_id, r.asset, verdict, mode, r.note, bool(r.correction)))
    return tuple(out)


# -- standing at the end ----------------------------------------------------------------------------------------
def _standing(c: Connection, at: float) -> tuple[StandingAlarm, ...]:
    """Alarms standing just before ``at``: their state then (the KPIs' states_at, as a list) and the stale ones."""
    # An alarm with no event since ``at`` is still in the state it was then: its stored row says it (the alarm
    # manager writes the row with every event; ix_alarms_state_raised). Only the others need their trail.
    changed = select(_E.c.alarm_id).where(_E.c.ts >= at)  # no DISTINCT: with it SQLite scans another index
    cols = (_A.c.id, _A.c.asset, _A.c.kind, _A.c.diagnostic, _A.c.priority, _A.c.message, _A.c.raised_ts)
    unchanged = select(*cols, _A.c.state).where(_A.c.state.in_(_STANDING_STATES), _A.c.raised_ts < at,
                                                _A.c.id.not_in(changed))
    latest = (select(_E.c.state).where(_E.c.alarm_id == _A.c.id, _E.c.ts < at)
              .order_by(_E.c.ts.desc(), _E.c.id.desc()).limit(1).correlate(_A).scalar_subquery())
    inner = select(*cols, latest.label("state")).where(_A.c.raised_ts < at, _A.c.id.in_(changed)).subquery()
    then = select(inner).where(inner.c.state.in_(_STANDING_STATES))
    found: dict[str, StandingAlarm] = {}
    for r in chain(c.execute(unchanged), c.execute(then)):
        state = AlarmState(r.state)
        found[r.id] = StandingAlarm(r.id, _source(r), Priority(r.priority), r.message, r.raised_ts, state,
                                    frozenset({_REASON_OF_STATE[state]}))
    stale = stale_alarms(c, at)
    extra = [s.alarm_id for s in stale if s.alarm_id not in found]
    info = {r.id: r for r in c.execute(select(_A.c.id, _A.c.message, _A.c.raised_ts).where(_A.c.id.in_(extra)))} \
        if extra else {}
    for s in stale:
        have = found.get(s.alarm_id)
        if have is not None:
            found[s.alarm_id] = StandingAlarm(have.alarm_id, have.source, have.priority, have.message, have.raised_ts,
                                              have.state, have.reasons | {StandingReason.STALE}, s.active_since)
        elif s.alarm_id in info:
            r = info[s.alarm_id]
            found[s.alarm_id] = StandingAlarm(s.alarm_id, s.source, s.priority, r.message, r.raised_ts, s.state,
                                              frozenset({StandingReason.STALE}), s.active_since)
    return tuple(sorted(found.values(), key=lambda s: (-s.priority.rank, s.raised_ts, s.alarm_id)))


__all__ = ["ACTION_EVENTS", "Acknowledgement", "AssetActivity", "LabelGiven", "OperatorAction", "ShiftAlarm",
           "ShiftReview", "StandingAlarm", "StandingReason", "shift_review"]
