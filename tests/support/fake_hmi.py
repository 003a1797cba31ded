"""A small in-memory :class:`app.hmi_api.HmiApi` for testing screens without an engine.

The test sets the plant (assets, their samples and stored history) and the alarms; the commands change the alarms
the way the engine does (the same state machine and permission matrix) and publish the same events, so a screen
reacts as it would on the plant. Every call is recorded in ``calls``; ``refuse_next`` makes the next command
raise instead (a refusal, ``CommitPending``). Thread-safe: commands and history reads come from worker threads.
"""
from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy

from acquisition.channels import N_CHANNELS
from app import events
from app.alarm_states import on_acknowledge
from app.health import Part, PartHealth, PartState
from app.hmi_api import (
    HISTORY_POINTS,
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmState,
    AssetHealth,
    AssetStatus,
    CloudState,
    CloudStatus,
    CommitPending,
    EngineEvent,
    EngineSnapshot,
    EventListener,
    ExportProgress,
    ExportRequest,
    ExportResult,
    HmiApi,
    InvalidTransition,
    JournalPage,
    JournalQuery,
    JournalRow,
    JournalSort,
    KpiReport,
    Label,
    Medium,
    Priority,
    Regime,
    Role,
    Samples,
    Session,
    ShelveMode,
    ShelveSpec,
    ShiftPattern,
    ShiftReview,
    SourceHealth,
    TrailEntry,
    UplinkStatus,
)
from app.kpi import kpi_report
from app.shift_review import shift_review
from app.store.database import open_database
from app.users import Action, require
from detection.alerts import AlertParams, AlertRule, RuleState
from tests.support.fake_handovers import FakeHandovers
from tests.support.fake_logbook import FakeLogbook
from tests.support.fake_settings import FakeSettings
from tests.support.fake_users import FakeUsers

if TYPE_CHECKING:  # Qt types only for the annotations: the fake itself is Qt-free
    from pytestqt.qtbot import QtBot

    from app.ui.main_window import MainWindow

PINS = {"operator": ("1111", Role.OPERATOR), "technician": ("2222", Role.TECHNICIAN),
        "supervisor": ("3333", Role.SUPERVISOR)}


def samples(t0: float, n: int, period_s: float = 1.0, score: float = 0.3) -> Samples:
    """``n`` plausible samples from ``t0``: a value per channel with a little ripple, and a score."""
    ts = t0 + period_s * np.arange(n, dtype=float)
    values = 10.0 + np.arange(N_CHANNELS)[None, :] + 0.1 * np.sin(ts[:, None] / 7.0)
    return ts, values, np.full(n, score)


def an_alarm(alarm_id: str, asset: str = "P-101", priority: Priority = Priority.HIGH, raised_ts: float = 1000.0,
             kind: AlarmKind = AlarmKind.ANOMALY, active: bool = True) -> Alarm:
    top = (("flow", 0.6), ("pressure", 0.3)) if kind is AlarmKind.ANOMALY else ()
    return Alarm(alarm_id, asset, kind, priority, AlarmState.UNACK, raised_ts, raised_ts, 3.1, 1, top,
                 f"{asset}: anomaly (driven by flow 60%, pressure 30%)", active)


class FakeHmi(FakeUsers, FakeSettings, FakeLogbook, FakeHandovers):
    """Implements :class:`HmiApi` in memory (checked by mypy, and by tests/ui/test_fake_hmi.py at run time)."""

    def __init__(self, assets: Sequence[str] = ("P-101", "P-102"), now: float = 2000.0, threshold: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._listeners: list[EventListener] = []
        self._alarms: dict[str, Alarm] = {}
        self.assets = list(assets)
        self.now = now
        self.threshold = threshold
        self.live: dict[str, Samples] = {a: samples(now - 600, 601) for a in assets}
        self.stored: dict[str, Samples] = {a: samples(now - 7200, 6601) for a in assets}
        self.calls: list[tuple[object, ...]] = []
        self.refuse_next: BaseException | None = None
        self.out_of_service: set[str] = set()
        self.period_s: dict[str, float] = {a: 1.0 for a in assets}  # each asset's measured sampling period
        self.stored_only: dict[str, Alarm] = {}  # in the journal but no longer in memory (an earlier run's)
        self.trails: dict[str, list[TrailEntry]] = {}
        self.journal_threads: list[int] = []  # threading.get_ident() of every journal/trail read
        self.rules: dict[str, RuleState] = {}  # the alert rule's state per asset (set_scores runs the real rule)
        self.health: dict[Part, PartHealth] = {}  # parts that are not OK (fail_worker)
        self._init_users(PINS)
        self._init_settings()
        self._init_logbook()
        self._init_handovers()

    def set_sample_period(self, asset: str, period_s: float) -> None:
        """Make ``asset`` a slow source: its live samples (the last 120) and stored history at ``period_s``."""
        self.period_s[asset] = period_s
        self.live[asset] = samples(self.now - 119 * period_s, 120, period_s)
        self.stored[asset] = samples(self.now - 2000 * period_s, 2001, period_s)

    # -- what the test does -------------------------------------------------------------------------
    def set_scores(self, asset: str, scores: Sequence[float] | np.ndarray, period_s: float = 1.0,
                   params: AlertParams | None = None) -> RuleState:
        """Live samples of ``asset`` with these scores (the newest at ``now``), and its alert rule's state as the
        engine's rule (detection.alerts.AlertRule) leaves it after them."""
        ts, values, _ = samples(self.now - (len(scores) - 1) * period_s, len(scores), period_s)
        score_array = np.asarray(scores, dtype=float)
        self.live[asset] = ts, values, score_array
        rule = AlertRule(params or AlertParams(threshold=self.threshold), period_s)
        for t, v in zip(ts, score_array, strict=True):
            rule.update(float(t), None if np.isnan(v) else float(v))
        self.rules[asset] = rule.state()
        return self.rules[asset]

    def fail_worker(self, part: Part, error: str) -> None:
        """A worker dies as the engine's do: its part STOPPED in the snapshot, a fatal WorkerFailed published."""
        self.health[part] = PartHealth(part, PartState.STOPPED, error, time.time())
        self.publish(events.WorkerFailed(part.value, error, fatal=True))

    def add_alarm(self, alarm: Alarm, announce: bool = True, in_memory: bool = True) -> Alarm:
        """A new alarm (its "raised" trail entry too); ``in_memory=False``: only in the journal (stored earlier)."""
        with self._lock:
            (self._alarms if in_memory else self.stored_only)[alarm.id] = alarm
            self.trails.setdefault(alarm.id, []).append(
                TrailEntry(alarm.raised_ts, AlarmEvent.RAISED, alarm.state, None, None, alarm.peak_score))
        if not in_memory:
            return alarm
        if announce:
            self.publish(events.AlarmRaised(alarm.id, alarm.asset, alarm.raised_ts, alarm.peak_score, alarm.priority,
                                            alarm.top_channels, alarm.message, False, alarm.state, alarm.kind))
        return alarm

    def rerate(self, alarm_id: str, priority: Priority, failure_mode: str = "bearing_wear") -> Alarm:
        """The cloud confirms ``alarm_id`` and rates it ``priority``, as the engine applies a verdict."""
        status = CloudStatus(CloudState.CONFIRMED, failure_mode, priority, 0.9)
        with self._lock:
            alarm = self._alarms[alarm_id] = replace(self._alarms[alarm_id], priority=priority, cloud=status)
            self.trails.setdefault(alarm_id, []).append(
                TrailEntry(self.now, AlarmEvent.CLOUD_CONFIRMED, alarm.state, None, status.text))
        self.publish(events.AlarmStateChanged(alarm_id, alarm.asset, self.now, alarm.state,
                                              AlarmEvent.CLOUD_CONFIRMED, None, status.text))
        return alarm

    def publish(self, event: EngineEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- events -------------------------------------------------------------------------------------
    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: EventListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- live state ---------------------------------------------------------------------------------
    def snapshot(self) -> EngineSnapshot:
        """Counts from the alarm model's own notions, as the engine's snapshot has them."""
        alarms = self.alarms()
        statuses = {}
        for asset in self.assets:
            mine = [a for a in alarms if a.asset == asset]
            active = sum(a.active and a.annunciated for a in mine)
            unacked = sum(a.unacknowledged for a in mine)
            ts, values, scores = self.live[asset]
            health = (AssetHealth.OUT_OF_SERVICE if asset in self.out_of_service else AssetHealth.ALARM if active
                      else AssetHealth.WARNING if unacked else AssetHealth.OK)
            rule = self.rules.get(asset) or RuleState(self.threshold, self.threshold * 0.5, 20.0, 10)
            statuses[asset] = AssetStatus(asset, Regime.RUNNING, True, False, values[-1].copy(), float(scores[-1]),
                                          active, unacked, health, sample_period_s=self.period_s[asset], rule=rule)
        parts = {p: self.health.get(p, PartHealth(p, PartState.OK, "")) for p in Part}
        return EngineSnapshot(self.now, statuses, SourceHealth(True, "receiving", 1000, 0),
                              UplinkStatus("stand-in"), self.threshold, 1000, health=parts)

    def alarms(self) -> list[Alarm]:
        with self._lock:
            return sorted(self._alarms.values(), key=lambda a: a.raised_ts)

    def alarm(self, alarm_id: str) -> Alarm | None:
        with self._lock:
            return self._alarms.get(alarm_id)

    def live_since(self, asset: str, after_ts: float) -> Samples:
        ts, values, scores = self.live[asset]
        keep = ts > after_ts
        return ts[keep], values[keep], scores[keep]

    def live_window(self, asset: str, seconds: float) -> Samples:
        ts = self.live[asset][0]
        return self.live_since(asset, np.nextafter(ts[-1] - seconds, -np.inf) if len(ts) else -np.inf)

    def history(self, asset: str, t0: float, t1: float, max_points: int = HISTORY_POINTS) -> Samples:
        self._record("history", asset, t0, t1)
        ts, values, scores = self.stored[asset]
        keep = (ts >= t0) & (ts <= t1)
        return ts[keep][:max_points], values[keep][:max_points], scores[keep][:max_points]

    # -- the journal ----------------------------------------------------------------------------------
    def journal(self, query: JournalQuery) -> JournalPage:
        """The store's semantics (app/store/journal.py) over the fake's alarms, in Python."""
        with self._lock:
            self.journal_threads.append(threading.get_ident())
            alarms = [*self.stored_only.values(), *self._alarms.values()]
            trails = {k: list(v) for k, v in self.trails.items()}
        q, needle = query, query.text.lower()

        def keep(a: Alarm) -> bool:
            modes = {a.cloud.failure_mode, a.label.failure_mode if a.label else None}
            texts = [a.asset, a.message] + [t for e in trails.get(a.id, []) for t in (e.user or "", e.note or "")]
            return ((q.since is None or a.raised_ts >= q.since) and (q.until is None or a.raised_ts < q.until)
                    and (not q.assets or a.asset in q.assets) and (not q.priorities or a.priority in q.priorities)
                    and (not q.states or a.state in q.states) and (not q.kinds or a.kind in q.kinds)
                    and (not q.failure_modes or bool(modes & set(q.failure_modes)))
                    and (not needle or any(needle in t.lower() for t in texts)))

        order = {JournalSort.NEWEST: lambda a: (-a.raised_ts, a.id), JournalSort.OLDEST: lambda a: (a.raised_ts, a.id),
                 JournalSort.PRIORITY: lambda a: (-a.priority.rank, -a.raised_ts, a.id),
                 JournalSort.ASSET: lambda a: (a.asset, -a.raised_ts, a.id)}[q.sort]
        hits = sorted(filter(keep, alarms), key=order)
        page = hits[q.page * q.page_size:(q.page + 1) * q.page_size]
        rows = []
        for a in page:
            trail = trails.get(a.id, [])
            last = trail[-1] if trail else None
            rows.append(JournalRow(a, len(trail), last.ts if last else a.raised_ts, last.event if last else None))
        return JournalPage(query, tuple(rows), len(hits), tuple(sorted({a.asset for a in alarms})))

    def alarm_trail(self, alarm_id: str) -> list[TrailEntry]:
        with self._lock:
            self.journal_threads.append(threading.get_ident())
            return list(self.trails.get(alarm_id, []))

    # -- commands -----------------------------------------------------------------------------------
    def acknowledge(self, alarm_id: str, session: Session, note: str | None = None) -> Alarm:
        require(session, Action.ACKNOWLEDGE)
        return self._change("acknowledge", alarm_id, session, note, AlarmEvent.ACKNOWLEDGED,
                            lambda a: replace(a, base=on_acknowledge(a.base)))

    def acknowledge_many(self, alarm_ids: Sequence[str], session: Session, note: str | None = None) -> int:
        done = 0
        for alarm_id in alarm_ids:
            try:
                self.acknowledge(alarm_id, session, note)
                done += 1
            except InvalidTransition:
                continue
        return done

    def shelve(self, alarm_id: str, session: Session, spec: ShelveSpec, note: str | None = None) -> Alarm:
        require(session, Action.SHELVE)
        until = time.time() + spec.duration_s
        one_shot = spec.mode is ShelveMode.UNTIL_CLEARED
        return self._change("shelve", alarm_id, session, note,
                            AlarmEvent.SHELVED_UNTIL_CLEARED if one_shot else AlarmEvent.SHELVED,
                            lambda a: replace(a, overlay=AlarmState.SHLVD, shelved_until=until, shelve_mode=spec.mode))

    def unshelve(self, alarm_id: str, session: Session) -> Alarm:
        require(session, Action.SHELVE)
        return self._change("unshelve", alarm_id, session, None, AlarmEvent.UNSHELVED,
                            lambda a: replace(a, overlay=None, shelved_until=None, shelve_mode=None,  # IEC 62682
                                              base=AlarmState.ACKED if a.active else AlarmState.NORM))

    def set_out_of_service(self, asset: str, session: Session, on: bool, note: str | None = None) -> int:
        require(session, Action.OUT_OF_SERVICE)
        (self.out_of_service.add if on else self.out_of_service.discard)(asset)
        ids = [a.id for a in self.alarms() if a.asset == asset]
        for alarm_id in ids:
            self._change("out of service", alarm_id, session, note,
                         AlarmEvent.OUT_OF_SERVICE if on else AlarmEvent.RETURNED_TO_SERVICE,
                         lambda a: replace(a, overlay=AlarmState.OOSRV if on else None))
        return len(ids)

    def label(self, alarm_id: str, session: Session, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> Alarm:
        require(session, Action.LABEL)
        lab = Label(alarm_id, verdict, failure_mode, note, session.user, time.time())
        return self._change("label", alarm_id, session, note, AlarmEvent.LABELLED, lambda a: replace(a, label=lab))

    def logout(self, session: Session, *, timed_out: bool = False) -> None:
        self._record("logout", session.user, timed_out)

    # -- export: a screen test sets ``export_media_list`` / ``export_runner`` (e.g. app.export.run_export on a
    # real store and folder) ---------------------------------------------------------------------------
    export_media_list: Sequence[Medium] = ()
    export_runner: Callable[[Session, ExportRequest, str, Callable[[ExportProgress], None] | None,
                             threading.Event | None], ExportResult] | None = None

    def export_media(self) -> list[Medium]:
        return list(self.export_media_list)

    def export(self, session: Session, request: ExportRequest, dest: str,
               progress: Callable[[ExportProgress], None] | None = None,
               cancel: threading.Event | None = None) -> ExportResult:
        self._record("export", session.user, dest, request)
        if self.export_runner is None:
            raise NotImplementedError("set FakeHmi.export_runner for an export test")
        return self.export_runner(session, request, dest, progress, cancel)

    # -- KPIs: the real app/kpi over a real SQLite store; a test seeds ``kpi_db`` (app.store.database.open_database)
    # with its alarms, else an empty store is made on first use --------------------------------------------------
    kpi_db: sqlalchemy.Engine | None = None
    shift_pattern_value: ShiftPattern = ShiftPattern(("06:00", "14:00", "22:00"), "UTC")
    kpi_gate: threading.Event | None = None  # set: kpis() waits for it (a test holds a report back)

    def kpi_store(self) -> sqlalchemy.Engine:
        """The store the KPIs and the shift review read (made empty on first use if the test gave none)."""
        with self._lock:
            if self.kpi_db is None:
                self._kpi_dir = tempfile.TemporaryDirectory(prefix="fake-kpi-")
                self.kpi_db = open_database(Path(self._kpi_dir.name) / "kpi.db")
            return self.kpi_db

    def kpis(self, start: float, end: float) -> KpiReport:
        self._record("kpis", start, end, threading.get_ident())
        if self.kpi_gate is not None:
            self.kpi_gate.wait(10)
        return kpi_report(self.kpi_store(), start, end)

    # -- shift review: the real app/shift_review over the same real store (``kpi_db``) ------------------------
    shift_gate: threading.Event | None = None  # set: shift_review() waits for it (a test holds a review back)

    def shift_review(self, session: Session | None, start: float, end: float) -> ShiftReview:
        self._record("shift_review", start, end, threading.get_ident())
        require(session, Action.HISTORY)
        if self.shift_gate is not None:
            self.shift_gate.wait(10)
        return shift_review(self.kpi_store(), start, end, now=self.now)

    def shift_pattern(self) -> ShiftPattern:
        return self.shift_pattern_value

    # -- plumbing -----------------------------------------------------------------------------------
    def _record(self, *call: object) -> None:
        with self._lock:
            self.calls.append(call)

    def _change(self, what: str, alarm_id: str, session: Session, note: str | None, event: AlarmEvent,
                fn: Callable[[Alarm], Alarm]) -> Alarm:
        self._record(what, alarm_id, session.user, note)
        refusal, self.refuse_next = self.refuse_next, None
        with self._lock:
            before = self._alarms.get(alarm_id)
            if before is None:
                raise KeyError(f"no alarm with id {alarm_id!r}")
            if refusal is not None and not isinstance(refusal, CommitPending):
                raise refusal
            alarm = self._alarms[alarm_id] = fn(before)
            trail = self.trails.setdefault(alarm_id, [])
            revision = sum(e.label is not None for e in trail) + 1 if event is AlarmEvent.LABELLED else 0
            trail.append(TrailEntry(time.time(), event, alarm.state, session.user, note,
                                    label=alarm.label if revision else None, revision=revision))
        self.publish(events.AlarmStateChanged(alarm_id, alarm.asset, time.time(), alarm.state, event, session.user,
                                              note))
        if isinstance(refusal, CommitPending):  # done and announced, but not stored yet
            raise refusal.with_result(alarm)
        return alarm


def _implements(fake: FakeHmi) -> HmiApi:
    return fake  # mypy checks here that FakeHmi satisfies the Protocol


def window_on(qtbot: QtBot, api: HmiApi, size: tuple[int, int] = (1280, 800)) -> Iterator[MainWindow]:
    """The real main window on ``api``, shown and started (a generator for a fixture: shut down after)."""
    from app.ui.main_window import MainWindow  # Qt only for the screen tests that ask for a window

    w = MainWindow(api, kiosk=False, sound=False, poll_ms=20)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    w.start()
    yield w
    w.shutdown()
