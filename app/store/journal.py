"""The alarm journal: every stored alarm, filtered, sorted and paged, and one alarm's event trail.

Read-only: it opens its own connections (WAL: never in the writer's way) and blocks, so it belongs on a worker
thread. One row per alarm, not per event: a chattering alarm is one alarm with many re-activations (ISA-18.2),
and its events are in its trail (:func:`alarm_trail`), one tap away. Every filter is a bound parameter over an
index (app/store/schema.py); the free text is matched literally (LIKE wildcards in it are escaped).
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, exists, func, or_, select, true

from app.alarm_model import Alarm, AlarmEvent, AlarmKind, CloudStatus, Priority
from app.alarm_states import AlarmState
from app.labels import Label
from app.store import schema
from app.store.alarm_rows import shelve_mode_of
from detection.failure_modes import FailureMode

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # the longest note an operator can store (app.labels.MAX_NOTE); longer text cannot match one
MAX_PAGE_SIZE = 500
_ESCAPE = "\\"


class JournalSort(StrEnum):
    NEWEST = "newest first"
    OLDEST = "oldest first"
    PRIORITY = "most urgent first"
    ASSET = "by asset"


def _members(obj: object, name: str, enum: type[StrEnum]) -> None:
    """Turn the field ``name`` (an iterable of members or their words) into a frozenset of ``enum`` members."""
    values = getattr(obj, name)
    if isinstance(values, str):
        values = (values,)
    try:
        members = frozenset(enum(v) for v in values)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"journal {name}: {sorted(map(str, values))!r} holds a word that is not one of "
                         f"{allowed}") from None
    object.__setattr__(obj, name, members)


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """What the journal should list. Empty sets mean "any"; ``since``/``until`` bound ``raised_ts`` (plant time,
    ``since`` <= raised < ``until``; None = open). ``text`` is found case-insensitively in the alarm's asset or
    message, or in any note or user name on its trail or labels."""

    since: float | None = None
    until: float | None = None
    assets: frozenset[str] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    states: frozenset[AlarmState] = frozenset()
    kinds: frozenset[AlarmKind] = frozenset()
    failure_modes: frozenset[FailureMode] = frozenset()
    text: str = ""
    sort: JournalSort = JournalSort.NEWEST
    page: int = 0
    page_size: int = 50

    def __post_init__(self) -> None:
        _members(self, "priorities", Priority)
        _members(self, "states", AlarmState)
        _members(self, "kinds", AlarmKind)
        _members(self, "failure_modes", FailureMode)
        object.__setattr__(self, "assets", frozenset([self.assets] if isinstance(self.assets, str) else self.assets))
        object.__setattr__(self, "sort", JournalSort(self.sort))
        if len(self.text) > MAX_TEXT:
            raise ValueError(f"journal search text: {len(self.text)} characters; at most {MAX_TEXT}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"journal page_size: {self.page_size}; allowed 1 to {MAX_PAGE_SIZE}")
        if self.page < 0:
            raise ValueError(f"journal page: {self.page}; allowed 0 or more")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"journal {name}: {value!r}; allowed a finite time or None")


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One stored alarm as it was last written, with a summary of its trail."""

    alarm: Alarm
    events: int  # entries in its trail (events and label revisions)
    last_ts: float  # its latest event
    last_event: AlarmEvent | None


@dataclass(frozen=True, slots=True)
class JournalPage:
    query: JournalQuery
    rows: tuple[JournalRow, ...]
    total: int  # alarms that match the filters, over all pages
    assets: tuple[str, ...] = ()  # every asset with a stored alarm (also one no longer configured), for the filter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when there are none)."""
        return self.query.page * self.query.page_size + 1 if self.rows else 0


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One thing that happened to an alarm: a transition (``state`` after it) or a label (``label``, its
    ``revision``: 1 for the first label, 2 for its first correction...)."""

    ts: float
    event: AlarmEvent
    state: AlarmState | None
    user: str | None
    note: str | None
    score: float | None = None
    label: Label | None = field(default=None)
    revision: int = 0


def like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally anywhere (``%`` and ``_`` in it are escaped)."""
    quoted = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{quoted}%"


_A, _E, _L = schema.alarms, schema.alarm_events, schema.labels
_RANK = case({p.value: p.rank for p in Priority}, value=_A.c.priority, else_=0)


def _latest_label_id() -> Any:
    later = _L.alias("later")
    return select(func.max(later.c.id)).where(later.c.alarm_id == _A.c.id).correlate(_A).scalar_subquery()


def _where(q: JournalQuery) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = []
    if q.since is not None:
        cond.append(_A.c.raised_ts >= q.since)
    if q.until is not None:
        cond.append(_A.c.raised_ts < q.until)
    if q.assets:
        cond.append(_A.c.asset.in_(sorted(q.assets)))
    if q.priorities:
        cond.append(_A.c.priority.in_(sorted(p.value for p in q.priorities)))
    if q.states:
        cond.append(_A.c.state.in_(sorted(s.value for s in q.states)))
    if q.kinds:
        cond.append(_A.c.kind.in_(sorted(k.value for k in q.kinds)))
    if q.failure_modes:  # the latest label's diagnosis, or the cloud's
        modes = sorted(m.value for m in q.failure_modes)
        labelled = exists().where(_L.c.id == _latest_label_id(), _L.c.failure_mode.in_(modes))
        cond.append(or_(labelled, _A.c.cloud_failure_mode.in_(modes)))
    if q.text:
        pat = like_pattern(q.text)
        cond.append(or_(
            _A.c.asset.like(pat, escape=_ESCAPE), _A.c.message.like(pat, escape=_ESCAPE),
            exists().where(_E.c.alarm_id == _A.c.id,
                           or_(_E.c.note.like(pat, escape=_ESCAPE), _E.c.user.like(pat, escape=_ESCAPE))),
            exists().where(_L.c.alarm_id == _A.c.id,
                           or_(_L.c.note.like(pat, escape=_ESCAPE), _L.c.user.like(pat, escape=_ESCAPE))),
        ))
    return cond


def _order(sort: JournalSort) -> list[Any]:
    """Each order ends in the alarm id, so rows with equal keys keep one order and pages never overlap."""
    if sort is JournalSort.OLDEST:
        return [_A.c.raised_ts.asc(), _A.c.id.asc()]
    if sort is JournalSort.PRIORITY:
        return [_RANK.desc(), _A.c.raised_ts.desc(), _A.c.id.desc()]
    if sort is JournalSort.ASSET:
        return [_A.c.asset.asc(), _A.c.raised_ts.desc(), _A.c.id.desc()]
    return [_A.c.raised_ts.desc(), _A.c.id.desc()]


def journal_page(db: Engine, q: JournalQuery) -> JournalPage:
    """The page ``q.page`` of the alarms that match ``q``, in ``q.sort`` order, and how many match in all."""
    cond = and_(true(), *_where(q))
    page = (select(_A).where(cond).order_by(*_order(q.sort))
            .limit(q.page_size).offset(q.page * q.page_size))
    with db.connect() as c:
        total = int(c.execute(select(func.count()).select_from(_A).where(cond)).scalar_one())
        assets = tuple(c.execute(select(_A.c.asset).distinct().order_by(_A.c.asset)).scalars())
        rows = [dict(r._mapping) for r in c.execute(page)]
        ids = [r["id"] for r in rows]
        labels = _latest_labels(c, ids)
        trail = _trail_summaries(c, ids)
    out = []
    for r in rows:
        count, last_ts, last_event, n_labels = trail.get(r["id"], (0, r["raised_ts"], None, 0))
        out.append(JournalRow(stored_alarm(r, labels.get(r["id"])), count + n_labels, last_ts, last_event))
    return JournalPage(q, tuple(out), total, assets)


def alarm_trail(db: Engine, alarm_id: str) -> list[TrailEntry]:
    """Everything that happened to one alarm, oldest first: its transitions and its labels (every revision)."""
    with db.connect() as c:
        events = c.execute(select(_E.c.ts, _E.c.event, _E.c.state, _E.c.user, _E.c.note, _E.c.score, _E.c.id)
                           .where(_E.c.alarm_id == alarm_id, _E.c.event != AlarmEvent.LABELLED.value)
                           .order_by(_E.c.ts, _E.c.id)).all()
        labels = c.execute(select(_L).where(_L.c.alarm_id == alarm_id).order_by(_L.c.id)).all()
    out = [TrailEntry(r.ts, AlarmEvent(r.event), AlarmState(r.state), r.user, r.note, r.score) for r in events]
    for revision, r in enumerate(labels, start=1):
        label = Label(alarm_id, r.verdict, r.failure_mode, r.note, r.user, r.ts)
        out.append(TrailEntry(r.ts, AlarmEvent.LABELLED, None, r.user, r.note, label=label, revision=revision))
    out.sort(key=lambda e: e.ts)  # stable: same-time entries keep transitions before labels, each in its order
    return out


def journal_alarm(db: Engine, alarm_id: str) -> Alarm | None:
    """One stored alarm as last written (with its latest label), or None."""
    with db.connect() as c:
        row = c.execute(select(_A).where(_A.c.id == alarm_id)).first()
        if row is None:
            return None
        return stored_alarm(dict(row._mapping), _latest_labels(c, [alarm_id]).get(alarm_id))


def stored_alarm(r: dict[str, Any], label: Label | None = None) -> Alarm:
    """An :class:`Alarm` from its stored row: the stored state is the state shown (a held state is the overlay);
    its condition is unknown here, so it counts as active only while it has not cleared."""
    state = AlarmState(r["state"])
    cloud = CloudStatus(r["cloud_state"], r["cloud_failure_mode"], r["cloud_priority"], r["cloud_confidence"])
    return Alarm(
        id=r["id"], asset=r["asset"], kind=AlarmKind(r["kind"]), priority=Priority(r["priority"]),
        base=AlarmState.NORM if state.held else state, overlay=state if state.held else None,
        raised_ts=r["raised_ts"], last_active_ts=r["last_active_ts"], peak_score=r["peak_score"],
        activations=r["activations"], top_channels=tuple((str(c), float(s)) for c, s in json.loads(r["top_channels"])),
        message=r["message"], active=r["cleared_ts"] is None, cleared_ts=r["cleared_ts"],
        shelved_until=r["shelved_until"], shelve_mode=shelve_mode_of(r), cloud=cloud, label=label)


def _latest_labels(c: Any, ids: list[str]) -> dict[str, Label]:
    if not ids:
        return {}
    latest = select(func.max(_L.c.id)).where(_L.c.alarm_id.in_(ids)).group_by(_L.c.alarm_id)
    return {r.alarm_id: Label(r.alarm_id, r.verdict, r.failure_mode, r.note, r.user, r.ts)
            for r in c.execute(select(_L).where(_L.c.id.in_(latest)))}


def _trail_summaries(c: Any, ids: list[str]) -> dict[str, tuple[int, float, AlarmEvent | None, int]]:
    """Per alarm: (transitions, latest entry time, latest transition, labels)."""
    if not ids:
        return {}
    ev = (select(_E.c.alarm_id, func.count().label("n"), func.max(_E.c.ts).label("last"))
          .where(_E.c.alarm_id.in_(ids), _E.c.event != AlarmEvent.LABELLED.value).group_by(_E.c.alarm_id))
    lab = (select(_L.c.alarm_id, func.count().label("n"), func.max(_L.c.ts).label("last"))
           .where(_L.c.alarm_id.in_(ids)).group_by(_L.c.alarm_id))
    # SQLite takes a bare column from the row that holds the max(): the event of each alarm's newest transition
    newest = (select(_E.c.alarm_id, _E.c.event, func.max(_E.c.id).label("mx"))
              .where(_E.c.alarm_id.in_(ids), _E.c.event != AlarmEvent.LABELLED.value).group_by(_E.c.alarm_id))
    out: dict[str, tuple[int, float, AlarmEvent | None, int]] = {}
    events = {r.alarm_id: (int(r.n), float(r.last)) for r in c.execute(ev)}
    labels = {r.alarm_id: (int(r.n), float(r.last)) for r in c.execute(lab)}
    last_event = {r.alarm_id: AlarmEvent(r.event) for r in c.execute(newest)}
    for alarm_id in ids:
        n_ev, t_ev = events.get(alarm_id, (0, -math.inf))
        n_lab, t_lab = labels.get(alarm_id, (0, -math.inf))
        if n_ev or n_lab:
            out[alarm_id] = (n_ev, max(t_ev, t_lab), last_event.get(alarm_id), n_lab)
    return out


__all__ = ["MAX_TEXT", "JournalPage", "JournalQuery", "JournalRow", "JournalSort", "TrailEntry", "alarm_trail",
           "journal_alarm", "journal_page", "like_pattern", "stored_alarm"]
