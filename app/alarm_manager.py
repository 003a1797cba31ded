"""Turns detection's alert transitions into alarms with an ISA-18.2 lifecycle, stored and announced.

Each alarm has a base state driven by its condition and acknowledgement (NORM, UNACK, ACKED, RTNUN) and an
optional overlay (SHLVD by an operator, DSUPR by design while the pump is not running steadily, OOSRV while its
asset is out of service). The state shown is the overlay if any. On leaving an overlay the alarm returns to
UNACK if its condition is active; otherwise to RTNUN if it was never acknowledged (an operator must still see
it), else NORM.

Runs on the detection thread (alerts, regimes), on the housekeeping thread (shelving and cloud timeouts) and on
callers' threads (operator commands); one lock keeps the in-memory view consistent. Every change is written to
the store as an alarm event; operator commands return only once committed, so none is lost to a crash.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from app import events
from app.alarm_model import Alarm, AlarmEvent, AlarmKind, CloudState, CloudStatus, Priority, ShelveMode, ShelveSpec
from app.alarm_overlays import (
    released,
    released_on_clear,
    shelved_until_cleared,
    suppression_applies,
    unshelved_by_operator,
)
from app.alarm_states import AlarmState, InvalidTransition, on_acknowledge, on_condition
from app.audit_chain import AuditAppended
from app.cloud_verdicts import CloudVerdict, Rejection, RejectionLog, VerdictGate
from app.labels import Label, validate
from app.store.alarm_rows import AlarmWritten, LabelWritten, ServiceStateWritten
from app.store.ops import StoreOp
from app.store.status import CommitPending
from app.store.writer import Write, WriteSink
from app.users import Action, Session, require
from common.quoting import quoted
from detection.alerts import AlertEnded, AlertStarted

log = logging.getLogger(__name__)

HIGH_SCORE = 2.0  # a score this many times the threshold is a high-priority anomaly until the cloud says otherwise
LATE_VERDICT_S = 3600.0  # how long after its time-out a first verdict still counts (docs/uplink.md)
S = AlarmState
E = AlarmEvent
# The uplink's outbox ops for one change: (alarm, event, user, note, ts, label revision) -> ops
Messages = Callable[[Alarm, AlarmEvent, str | None, str | None, float, int], list[StoreOp]]


def _describe(asset: str, top: tuple[tuple[str, float], ...]) -> str:
    drivers = ", ".join(f"{c} {share:.0%}" for c, share in top) or "no single channel"
    return f"{asset}: anomaly (driven by {drivers})"


class AlarmManager:
    def __init__(self, writer: WriteSink, emit: Callable[[events.EngineEvent], None], threshold: float = 1.0,
                 cloud_submit: Callable[[Alarm], bool] | None = None, cloud_timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.time, late_verdict_s: float = LATE_VERDICT_S,
                 messages: Messages | None = None, timer: Callable[[], float] | None = None) -> None:
        """``writer``: the store writer, or in a test any :class:`~app.store.writer.WriteSink`.
        ``clock``: the plant clock every change is stamped by and shelving expires by (app/engine.py);
        ``timer`` (default: ``clock``): what the cloud's time-out and answer window are measured on, a real-time
        clock in the engine (the cloud answers in real time, however fast a simulated plant runs).
        ``messages(alarm, event, user, note, ts, label_revision)`` returns extra store ops (the uplink's outbox
        messages) that commit in the same transaction as the change they describe."""
        self._writer = writer
        self._emit = emit
        self._threshold = threshold
        self._cloud_submit = cloud_submit
        self._cloud_timeout_s = cloud_timeout_s
        self._clock = clock
        self._timer = timer or clock
        self._messages: Messages = messages or (lambda *_: [])
        self._label_revisions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._alarms: dict[str, Alarm] = {}
        self._last_by_asset: dict[str, str] = {}
        self._suppressed: set[str] = set()  # assets not running steadily
        self._diagnostic: dict[tuple[str, str], str] = {}  # (asset, key) -> its latest diagnostic alarm id
        self._out_of_service: set[str] = set()
        self._verdicts = VerdictGate(cloud_timeout_s + late_verdict_s)  # guarded by _lock
        self.rejected_verdicts = RejectionLog(log)

    @property
    def out_of_service(self) -> frozenset[str]:
        with self._lock:  # set_out_of_service changes the set on an operator's thread
            return frozenset(self._out_of_service)

    def alarms(self) -> list[Alarm]:
        with self._lock:
            return sorted(self._alarms.values(), key=lambda a: a.raised_ts)

    def get(self, alarm_id: str) -> Alarm:
        with self._lock:
            return self._get(alarm_id)

    def restore(self, alarms: Iterable[Alarm], out_of_service: Iterable[str],
                label_revisions: dict[str, int] | None = None) -> None:
        """Load what a previous run left current (their conditions are unknown now: treated as cleared)."""
        with self._lock:
            for a in alarms:
                self._alarms[a.id] = a
                if a.kind is AlarmKind.DIAGNOSTIC:  # a new loss of the same kind re-activates the listed alarm
                    self._diagnostic.setdefault((a.asset, a.diagnostic_key or ""), a.id)
                else:
                    self._last_by_asset.setdefault(a.asset, a.id)
            self._out_of_service = set(out_of_service)
            self._label_revisions.update(label_revisions or {})
            now = self._timer()
            for a in self._alarms.values():  # sent before the restart and never answered: one more window
                if a.kind is AlarmKind.ANOMALY and a.cloud.state in (CloudState.ANALYZING, CloudState.UNREACHABLE):
                    self._verdicts.published(a.id, now)

    def _get(self, alarm_id: str) -> Alarm:
        alarm = self._alarms.get(alarm_id)
        if alarm is None:
            raise KeyError(f"no alarm with id {alarm_id!r}")
        return alarm

    # -- from detection (detection thread) -------------------------------------------------------
    def on_alert(self, asset: str, transition: AlertStarted | AlertEnded) -> None:
        if isinstance(transition, AlertStarted):
            self._started(asset, transition)
        else:
            self._ended(asset, transition)

    def _started(self, asset: str, t: AlertStarted) -> None:
        with self._lock:
            prev = self._alarms.get(self._last_by_asset.get(asset, ""))
            if t.reactivation and prev is not None and not prev.active:
                alarm = replace(prev, base=on_condition(prev.base, True), active=True, last_active_ts=t.ts,
                                peak_score=max(prev.peak_score, t.score), activations=prev.activations + 1,
                                cleared_ts=None)
                event, fresh = E.REACTIVATED, False
            else:
                priority = Priority.HIGH if t.score >= HIGH_SCORE * self._threshold else Priority.MEDIUM
                alarm = Alarm(id=uuid.uuid4().hex, asset=asset, kind=AlarmKind.ANOMALY, priority=priority, base=S.UNACK,
                              raised_ts=t.ts, last_active_ts=t.ts, peak_score=t.score, activations=1,
                              top_channels=t.top_channels, message=_describe(asset, t.top_channels), active=True,
                              overlay=S.OOSRV if asset in self._out_of_service else None)
                self._last_by_asset[asset] = alarm.id
                event, fresh = E.RAISED, True
                if alarm.overlay is None and self._cloud_submit is not None:
                    sent = self._cloud_submit(alarm)
                    alarm = replace(alarm, cloud=CloudStatus(CloudState.ANALYZING if sent else CloudState.UNREACHABLE,
                                                             sent_at=self._timer()))
                    self._verdicts.asked(alarm.id, self._timer(), sent)
            self._alarms[alarm.id] = alarm
            self._write(alarm, t.ts, event, t.score, insert=fresh)
        self._emit(events.AlarmRaised(alarm.id, asset, t.ts, t.score, alarm.priority, alarm.top_channels,
                                      alarm.message, not fresh, alarm.state))

    def _ended(self, asset: str, t: AlertEnded) -> None:
        with self._lock:
            prev = self._alarms.get(self._last_by_asset.get(asset, ""))
            if prev is None or not prev.active:
                return
            top = t.top_channels or prev.top_channels
            alarm = replace(prev, base=on_condition(prev.base, False), active=False, cleared_ts=t.ts,
                            peak_score=max(prev.peak_score, t.peak_score), top_channels=top,
                            message=_describe(asset, top))
            self._alarms[alarm.id] = alarm
            self._write(alarm, t.ts, E.CLEARED, t.peak_score)
            unshelved = self._release_on_clear(alarm, t.ts)
        self._emit(events.AlarmCleared(alarm.id, asset, t.ts, alarm.peak_score))
        if unshelved is not None:
            self._emit(unshelved)

    def on_diagnostic(self, asset: str, key: str, active: bool, ts: float, message: str,
                      priority: Priority = Priority.MEDIUM) -> None:
        """A diagnostic condition (``key``: "comm" or "signal") of an asset's instrumentation came or went.

        Diagnostics are alarms about the data, not the process: never sent to the cloud, never suppressed by
        the pump's regime, and an anomaly alarm is never raised by a missing device (the engine skips scoring).
        A re-trip while the previous one is still listed re-activates it, so a flapping link is one alarm.
        """
        with self._lock:
            prev = self._alarms.get(self._diagnostic.get((asset, key), ""))
            if active:
                if prev is not None and prev.active:
                    return
                if prev is not None and prev.standing:
                    alarm = replace(prev, base=on_condition(prev.base, True), active=True, last_active_ts=ts,
                                    activations=prev.activations + 1, cleared_ts=None, message=message)
                    event, fresh = E.REACTIVATED, False
                else:
                    alarm = Alarm(id=uuid.uuid4().hex, asset=asset, kind=AlarmKind.DIAGNOSTIC, priority=priority,
                                  base=S.UNACK, raised_ts=ts, last_active_ts=ts, peak_score=0.0, activations=1,
                                  top_channels=(), message=message, active=True,
                                  overlay=S.OOSRV if asset in self._out_of_service else None, diagnostic_key=key)
                    event, fresh = E.RAISED, True
                self._diagnostic[(asset, key)] = alarm.id
            else:
                if prev is None or not prev.active:
                    return
                alarm = replace(prev, base=on_condition(prev.base, False), active=False, cleared_ts=ts)
                event, fresh = E.CLEARED, False
            self._alarms[alarm.id] = alarm
            self._write(alarm, ts, event, None, insert=fresh)
            unshelved = None if active else self._release_on_clear(alarm, ts)
        if active:
            self._emit(events.AlarmRaised(alarm.id, asset, ts, 0.0, alarm.priority, (), alarm.message, not fresh,
                                          alarm.state, kind=AlarmKind.DIAGNOSTIC))
        else:
            self._emit(events.AlarmCleared(alarm.id, asset, ts, 0.0))
            if unshelved is not None:
                self._emit(unshelved)

    def on_regime(self, asset: str, running: bool, ts: float) -> None:
        """Suppression by design: a stopped, starting or re-setting pump's alarms mean nothing."""
        with self._lock:
            if running:
                self._suppressed.discard(asset)
            else:
                self._suppressed.add(asset)
            touched = [a.id for a in self._alarms.values() if a.asset == asset and suppression_applies(a, running)]
        for alarm_id in touched:  # not awaited (the detection thread): kept and retried like the alarm rows
            self._change_if(alarm_id, lambda a: suppression_applies(a, running),
                            released if running else (lambda a: replace(a, overlay=S.DSUPR)),
                            E.UNSUPPRESSED if running else E.SUPPRESSED, None, ts)

    # -- housekeeping (timer thread) ---------------------------------------------------------------
    def tick(self) -> None:
        """Not awaited (a timer thread): during a store problem the changes are kept and retried."""
        now, timer_now = self._clock(), self._timer()

        def expired(a: Alarm) -> bool:
            return a.overlay is S.SHLVD and a.shelved_until is not None and a.shelved_until <= now

        def late(a: Alarm) -> bool:
            return a.cloud.state is CloudState.ANALYZING and a.cloud.sent_at is not None and \
                timer_now - a.cloud.sent_at >= self._cloud_timeout_s

        with self._lock:
            to_release = [a.id for a in self._alarms.values() if expired(a)]
            to_time_out = [a.id for a in self._alarms.values() if late(a)]
        # Each is checked again under the lock when applied: an operator may have unshelved the alarm or put it
        # out of service, or the cloud's verdict may have come, since the lists were made.
        for alarm_id in to_release:
            self._change_if(alarm_id, expired, released, E.SHELVING_EXPIRED, None)
        for alarm_id in to_time_out:
            self._change_if(alarm_id, late, lambda a: replace(a, cloud=replace(a.cloud, state=CloudState.UNREACHABLE)),
                            E.CLOUD_UNREACHABLE, "cloud unreachable - edge only")

    def on_cloud_published(self, alarm_id: str) -> None:
        """The broker has the alarm (PUBACK): the cloud is analyzing it from now on, also when it was queued
        while the uplink was down ("unreachable" until now). The time-out and the answer window run from here."""
        now, stamp = self._timer(), self._clock()
        with self._lock:  # one step: a verdict cannot come between the check and the change
            a = self._alarms.get(alarm_id)
            if (a is None or a.kind is not AlarmKind.ANOMALY
                    or a.cloud.state not in (CloudState.UNREACHABLE, CloudState.ANALYZING, CloudState.NONE)):
                return  # already answered (a late duplicate PUBACK)
            self._verdicts.published(alarm_id, now)
            if a.cloud.state is CloudState.ANALYZING:  # only the time-out's start moves: nothing to store or announce
                self._alarms[alarm_id] = replace(a, cloud=replace(a.cloud, sent_at=now))
                return
            staged = self._stage(alarm_id, lambda x: replace(x, cloud=CloudStatus(CloudState.ANALYZING, sent_at=now)),
                                 E.CLOUD_ANALYZING, None, None, stamp, stamp)
        self._announce(staged, wait=False)

    def on_cloud_verdict(self, v: CloudVerdict) -> Rejection | None:
        """Apply the cloud's verdict if it answers a question this gateway asked, once (app/cloud_verdicts.py):
        the first verdict on an alarm, or one from a strictly newer model; it may come after the time-out (within
        the late window). Anything else changes nothing and is counted in ``rejected_verdicts`` and logged.
        Returns why it was refused, or None when applied."""
        rated = Priority(v.priority) if v.priority is not None else None  # the protocol checked the word
        status = CloudStatus(CloudState.CONFIRMED if v.confirmed else CloudState.NOT_CONFIRMED, v.failure_mode, rated,
                             v.confidence)
        now, stamp = self._timer(), self._clock()

        def apply(a: Alarm) -> Alarm:
            return replace(a, cloud=replace(status, sent_at=a.cloud.sent_at),
                           priority=(rated or a.priority) if v.confirmed else a.priority)

        with self._lock:  # judging and applying are one step
            a = self._alarms.get(v.alarm_id)
            reason = self._verdicts.judge(v, None if a is None else a.kind, now)
            if reason is None:
                self._verdicts.answered(v)
                staged = self._stage(v.alarm_id, apply, E.CLOUD_CONFIRMED if v.confirmed else E.CLOUD_NOT_CONFIRMED,
                                     None, status.text, stamp, stamp)
        if reason is not None:
            self.rejected_verdicts.reject(reason, f"alarm {quoted(v.alarm_id)}, model {quoted(v.model_version)}, "
                                                  f"id {quoted(v.id)}")
            return reason
        self._announce(staged, wait=False)
        return None

    # -- operator commands (any thread; return once committed) ------------------------------------
    def acknowledge(self, alarm_id: str, session: Session, note: str | None = None) -> Alarm:
        require(session, Action.ACKNOWLEDGE)
        return self._change(alarm_id, lambda a: replace(a, base=on_acknowledge(a.base)), E.ACKNOWLEDGED,
                            session, note, audit="acknowledge")

    def acknowledge_many(self, alarm_ids: Iterable[str], session: Session, note: str | None = None) -> int:
        require(session, Action.ACKNOWLEDGE)
        done, pending = 0, None
        for alarm_id in alarm_ids:
            try:
                self.acknowledge(alarm_id, session, note)
                done += 1
            except InvalidTransition:
                continue  # already acknowledged: "acknowledge all" skips it
            except CommitPending as exc:  # done, kept and retried: go on with the others
                done, pending = done + 1, exc
        if pending is not None:
            raise pending.with_result(done)
        return done

    def shelve(self, alarm_id: str, session: Session, spec: ShelveSpec, note: str | None = None) -> Alarm:
        """Shelve for a time, or until the condition next clears (with a longest time): ``spec``."""
        require(session, Action.SHELVE)
        if not isinstance(spec, ShelveSpec):
            raise TypeError(f"shelve takes a ShelveSpec (ShelveSpec.timed(seconds) or ShelveSpec.until_cleared()), "
                            f"got {spec!r}")
        until = self._clock() + spec.duration_s
        one_shot = spec.mode is ShelveMode.UNTIL_CLEARED

        def shelved(a: Alarm) -> Alarm:  # checked under the lock: the asset may go out of service meanwhile
            if a.overlay is S.OOSRV:
                raise InvalidTransition("an alarm out of service cannot be shelved")
            if one_shot and not a.active:
                raise InvalidTransition("its condition has already cleared: 'until cleared' needs an active alarm "
                                        "(shelve it for a time instead)")
            return replace(a, overlay=S.SHLVD, shelved_until=until, shelve_mode=spec.mode)

        return self._change(alarm_id, shelved, E.SHELVED_UNTIL_CLEARED if one_shot else E.SHELVED, session, note,
                            audit="shelve", extra={"until": until, "mode": spec.mode.value})

    def unshelve(self, alarm_id: str, session: Session) -> Alarm:
        require(session, Action.SHELVE)

        def unshelved(a: Alarm) -> Alarm:  # checked under the lock: never releases an out-of-service overlay
            if a.overlay is not S.SHLVD:
                raise InvalidTransition("this alarm is not shelved")
            return unshelved_by_operator(a)

        return self._change(alarm_id, unshelved, E.UNSHELVED, session, None, audit="unshelve")

    def set_out_of_service(self, asset: str, session: Session, on: bool, note: str | None = None) -> int:
        require(session, Action.OUT_OF_SERVICE)
        now = self._clock()
        event = E.OUT_OF_SERVICE if on else E.RETURNED_TO_SERVICE
        with self._lock:  # the setting and its alarms in one step: memory and the store see the same order
            (self._out_of_service.add if on else self._out_of_service.discard)(asset)
            setting = Write([
                ServiceStateWritten(asset, on, session.user, now),
                AuditAppended(now, session.user, "out of service" if on else "return to service",
                              {"asset": asset, "note": note}),
            ])
            self._writer.submit(setting)
            staged = [self._stage(a.id, (lambda x: replace(x, overlay=S.OOSRV)) if on else released, event,
                                  session.user, note, now, now)
                      for a in list(self._alarms.values())
                      if a.asset == asset and ((on and a.standing) or (not on and a.overlay is S.OOSRV))]
        pending: CommitPending | None = None
        refused: Exception | None = None
        try:
            self._writer.wait(setting)
        except CommitPending as exc:  # kept and retried: the alarms follow it (in order), also kept
            pending = exc
        except Exception as exc:  # noqa: BLE001 - raised below, once the alarms' changes are settled too
            refused = exc
        for st in staged:
            try:
                self._announce(st, wait=True)
            except CommitPending as exc:
                pending = exc
        if refused is not None:
            raise refused
        if pending is not None:
            raise pending.with_result(len(staged))
        return len(staged)

    def label(self, alarm_id: str, session: Session, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> Alarm:
        require(session, Action.LABEL)
        validate(verdict, failure_mode, note)
        now = self._clock()
        asset = self.get(alarm_id).asset
        lab = Label(alarm_id, verdict, failure_mode, note, session.user, now)
        with self._lock:
            before = self._get(alarm_id)
            revision = self._label_revisions.get(alarm_id, 1 if before.label is not None else 0) + 1
            alarm = replace(before, label=lab)
            write = Write([
                LabelWritten(lab),
                AuditAppended(now, session.user, "label", {"alarm_id": alarm_id, "verdict": verdict,
                                                         "failure_mode": failure_mode, "note": note}),
                *self._safe_messages(alarm, E.LABELLED, session.user, note, now, revision),
            ])
            self._writer.submit(write)
            self._alarms[alarm_id] = alarm
            self._label_revisions[alarm_id] = revision
        changed = events.AlarmStateChanged(alarm_id, asset, now, alarm.state, E.LABELLED, session.user, note)
        self._await(write, alarm_id, alarm, before, changed)
        self._emit(changed)
        return alarm

    # -- plumbing ------------------------------------------------------------------------------------
    def _release_on_clear(self, cleared: Alarm, ts: float) -> events.AlarmStateChanged | None:
        """With the lock held, after a clear is queued: end a one-shot shelving (journaled, not awaited: the
        detection thread). Returns the change to announce once the lock is released."""
        if not shelved_until_cleared(cleared):
            return None
        alarm = released_on_clear(cleared)
        self._alarms[alarm.id] = alarm
        self._write(alarm, ts, E.UNSHELVED_ON_CLEAR, None)
        return events.AlarmStateChanged(alarm.id, alarm.asset, ts, alarm.state, E.UNSHELVED_ON_CLEAR, None, None)

    def _change(self, alarm_id: str, fn: Callable[[Alarm], Alarm], event: AlarmEvent, session: Session | None,
                note: str | None, ts: float | None = None, audit: str | None = None,
                extra: dict | None = None, wait: bool = True) -> Alarm:
        """Apply ``fn`` (raising leaves everything unchanged), store the alarm and its event, then announce it.

        The change and its store write are made under the lock, so two threads changing one alarm (an operator
        and a cloud verdict, say) can neither undo each other nor reach the store in the other order. The
        caller then waits for the commit outside the lock (``wait``: operator commands return only once
        committed; the detection, timer and uplink threads do not wait)."""
        now = self._clock()
        with self._lock:
            staged = self._stage(alarm_id, fn, event, session.user if session else None, note,
                                 ts if ts is not None else now, now, audit, extra)
        self._announce(staged, wait)
        return staged.alarm

    def _change_if(self, alarm_id: str, due: Callable[[Alarm], bool], fn: Callable[[Alarm], Alarm], event: AlarmEvent,
                   note: str | None, ts: float | None = None) -> None:
        """For the detection and timer threads (not awaited): apply ``fn`` if the alarm, as it is under the lock,
        is still ``due`` for it; an operator or the cloud may have changed it since it was picked."""

        def change(a: Alarm) -> Alarm:
            if not due(a):
                raise _Unchanged
            return fn(a)

        with contextlib.suppress(_Unchanged):
            self._change(alarm_id, change, event, None, note, ts, wait=False)

    def _stage(self, alarm_id: str, fn: Callable[[Alarm], Alarm], event: AlarmEvent, user: str | None, note: str | None,
               when: float, now: float, audit: str | None = None, extra: dict | None = None) -> _Staged:
        """With the lock held: apply ``fn``, queue the store write (the writer keeps the queue's order) and keep
        the changed alarm; the caller announces it (:meth:`_announce`) once the lock is released."""
        before = self._get(alarm_id)
        alarm = fn(before)
        ops: list[StoreOp] = [AlarmWritten(alarm, event, when, None, user, note)]
        ops += self._safe_messages(alarm, event, user, note, when, 0)
        if audit:
            ops.append(AuditAppended(now, user, audit, {"alarm_id": alarm_id, "note": note, **(extra or {})}))
        write = Write(ops)
        self._writer.submit(write)
        self._alarms[alarm_id] = alarm
        changed = events.AlarmStateChanged(alarm_id, alarm.asset, now, alarm.state, event, user, note)
        return _Staged(write, before, alarm, changed)

    def _announce(self, staged: _Staged, wait: bool) -> None:
        if wait:
            self._await(staged.write, staged.alarm.id, staged.alarm, staged.before, staged.changed)
        self._emit(staged.changed)

    def _await(self, write: Write, alarm_id: str, alarm: Alarm, before: Alarm, changed: events.EngineEvent) -> None:
        """Wait for the commit. The store cannot commit now (disk full, locked) or not yet: the change stands
        (the writer keeps it and retries in order), is announced, and the caller gets ``CommitPending`` with
        the changed alarm. The store refused it: undone in memory, and the refusal raised."""
        try:
            self._writer.wait(write)
        except CommitPending as pending:
            self._emit(changed)
            raise pending.with_result(alarm) from None
        except Exception:
            with self._lock:  # undo in memory unless changed again since
                if self._alarms.get(alarm_id) is alarm:
                    self._alarms[alarm_id] = before
            raise

    def _write(self, alarm: Alarm, ts: float, event: AlarmEvent, score: float | None, insert: bool = False) -> None:
        """Queue the alarm row, its event and its uplink messages (call with the lock held: store order).

        Not awaited (this is the detection thread): the writer keeps the write and retries it in order until it
        commits, also through a full disk or a locked database, so the alarm's row comes before any later
        acknowledgement of it."""
        self._writer.submit(Write([AlarmWritten(alarm, event, ts, score, first=insert),
                                   *self._safe_messages(alarm, event, None, None, ts, 0)]))

    def _safe_messages(self, alarm: Alarm, event: AlarmEvent, user: str | None, note: str | None, ts: float,
                       revision: int) -> list:
        """The uplink's outbox ops for a change; a failure there never costs the alarm row or an operator's entry."""
        try:
            return self._messages(alarm, event, user, note, ts, revision)
        except Exception as exc:  # reported, and the alarm is stored without its message
            log.error("no uplink message for alarm %s (%s): %s", alarm.id, event, exc, exc_info=exc)
            self._emit(events.WorkerFailed("uplink", f"alarm {alarm.asset} {event}: message not queued: {exc}",
                                           False))
            return []


@dataclass(frozen=True, slots=True)
class _Staged:
    """A change made and queued under the lock, to be announced (and maybe awaited) after it."""

    write: Write
    before: Alarm
    alarm: Alarm
    changed: events.AlarmStateChanged


class _Unchanged(Exception):
    """Raised by a change function under the lock: the change is no longer due (another thread changed the alarm
    since it was picked); nothing is written or announced."""
