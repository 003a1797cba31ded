"""Turns detection's alert transitions into alarms with an ISA-18.2 lifecycle, stored and announced.

Runs on the detection thread (alert transitions) and on callers' threads (operator actions); a lock keeps the
in-memory view consistent. Every transition is written to the store as an alarm event; operator actions return
only once their write has committed, so an acknowledgement is never lost to a crash right after it.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from app import events
from app.alarm_states import AlarmState, on_acknowledge, on_condition
from app.store import schema
from app.store.writer import StoreWriter, Write
from detection.alerts import AlertEnded, AlertStarted

log = logging.getLogger(__name__)

HIGH_SCORE = 2.0  # a score this many times the threshold is a high-priority anomaly until the cloud says otherwise


@dataclass(frozen=True, slots=True)
class Alarm:
    id: str
    asset: str
    kind: str
    priority: str
    state: AlarmState
    raised_ts: float
    last_active_ts: float
    peak_score: float
    activations: int
    top_channels: tuple[tuple[str, float], ...]
    message: str
    active: bool
    cleared_ts: float | None = None


def _describe(asset: str, top: tuple[tuple[str, float], ...]) -> str:
    drivers = ", ".join(f"{c} {share:.0%}" for c, share in top) or "no single channel"
    return f"{asset}: anomaly (driven by {drivers})"


class AlarmManager:
    def __init__(self, writer: StoreWriter, emit: Callable[[object], None], threshold: float = 1.0) -> None:
        self._writer = writer
        self._emit = emit
        self._threshold = threshold
        self._lock = threading.Lock()
        self._alarms: dict[str, Alarm] = {}
        self._last_by_asset: dict[str, str] = {}

    def alarms(self) -> list[Alarm]:
        with self._lock:
            return sorted(self._alarms.values(), key=lambda a: a.raised_ts)

    # -- from detection ------------------------------------------------------------------------
    def on_alert(self, asset: str, transition: AlertStarted | AlertEnded) -> None:
        if isinstance(transition, AlertStarted):
            self._started(asset, transition)
        else:
            self._ended(asset, transition)

    def _started(self, asset: str, t: AlertStarted) -> None:
        with self._lock:
            prev = self._alarms.get(self._last_by_asset.get(asset, ""))
            if t.reactivation and prev is not None and not prev.active:
                alarm = replace(
                    prev,
                    state=on_condition(prev.state, True),
                    active=True,
                    last_active_ts=t.ts,
                    peak_score=max(prev.peak_score, t.score),
                    activations=prev.activations + 1,
                    cleared_ts=None,
                )
                self._alarms[alarm.id] = alarm
                ops = [
                    (schema.alarms, "update", _row_update(alarm), schema.alarms.c.id == alarm.id),
                    _event_op(alarm, t.ts, "reactivated", t.score),
                ]
                reactivated = True
            else:
                priority = "high" if t.score >= HIGH_SCORE * self._threshold else "medium"
                alarm = Alarm(
                    id=uuid.uuid4().hex, asset=asset, kind="anomaly", priority=priority, state=AlarmState.UNACK,
                    raised_ts=t.ts, last_active_ts=t.ts, peak_score=t.score, activations=1,
                    top_channels=t.top_channels, message=_describe(asset, t.top_channels), active=True,
                )
                self._alarms[alarm.id] = alarm
                self._last_by_asset[asset] = alarm.id
                ops = [(schema.alarms, "insert", _row(alarm)), _event_op(alarm, t.ts, "raised", t.score)]
                reactivated = False
        self._writer.submit(Write(ops))
        self._emit(events.AlarmRaised(alarm.id, asset, t.ts, t.score, alarm.priority, alarm.top_channels,
                                      alarm.message, reactivated))

    def _ended(self, asset: str, t: AlertEnded) -> None:
        with self._lock:
            prev = self._alarms.get(self._last_by_asset.get(asset, ""))
            if prev is None or not prev.active:
                return
            top = t.top_channels or prev.top_channels
            alarm = replace(prev, state=on_condition(prev.state, False), active=False, cleared_ts=t.ts,
                            peak_score=max(prev.peak_score, t.peak_score), top_channels=top,
                            message=_describe(asset, top))
            self._alarms[alarm.id] = alarm
        self._writer.submit(Write([
            (schema.alarms, "update", _row_update(alarm), schema.alarms.c.id == alarm.id),
            _event_op(alarm, t.ts, "cleared", t.peak_score),
        ]))
        self._emit(events.AlarmCleared(alarm.id, asset, t.ts, alarm.peak_score))

    # -- operator actions (any thread) ---------------------------------------------------------
    def acknowledge(self, alarm_id: str, user: str, note: str | None = None, timeout: float = 10.0) -> Alarm:
        """Acknowledge; returns once the acknowledgement is committed to the database."""
        with self._lock:
            alarm = self._alarms.get(alarm_id)
            if alarm is None:
                raise KeyError(f"no alarm with id {alarm_id!r}")
            alarm = replace(alarm, state=on_acknowledge(alarm.state))
            self._alarms[alarm_id] = alarm
        now = time.time()
        done = self._writer.submit(Write([
            (schema.alarms, "update", {"state": alarm.state.value}, schema.alarms.c.id == alarm_id),
            _event_op(alarm, now, "acknowledged", None, user, note),
            (schema.audit_log, "insert", {"ts": now, "user": user, "action": "acknowledge",
                                          "detail": json.dumps({"alarm_id": alarm_id, "note": note})}),
        ]))
        done.result(timeout=timeout)
        self._emit(events.AlarmStateChanged(alarm_id, alarm.asset, now, alarm.state.value, "acknowledged", user, note))
        return alarm


def _row(a: Alarm) -> dict[str, object]:
    return {"id": a.id, "asset": a.asset, "kind": a.kind, **_row_update(a)}


def _row_update(a: Alarm) -> dict[str, object]:
    return {
        "priority": a.priority, "state": a.state.value, "raised_ts": a.raised_ts, "cleared_ts": a.cleared_ts,
        "last_active_ts": a.last_active_ts, "peak_score": a.peak_score, "activations": a.activations,
        "top_channels": json.dumps(a.top_channels), "message": a.message,
    }


def _event_op(a: Alarm, ts: float, event: str, score: float | None, user: str | None = None,
              note: str | None = None) -> tuple[object, ...]:
    return (schema.alarm_events, "insert", {"alarm_id": a.id, "ts": ts, "event": event, "state": a.state.value,
                                            "user": user, "note": note, "score": score})
