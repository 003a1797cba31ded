"""Stored alarms for journal tests: rows written straight into a real SQLite file, as the store writer writes them
(app/alarm_manager.py: the alarm row, one alarm_events row per transition, one labels row per label revision)."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, insert

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.store import schema
from app.store.database import open_database


class StoredAlarms:
    def __init__(self, path: Path) -> None:
        self.db: Engine = open_database(path)

    def alarm(self, alarm_id: str, asset: str = "P-101", raised_ts: float = 1000.0,
              priority: Priority = Priority.MEDIUM, state: AlarmState = AlarmState.UNACK,
              kind: AlarmKind = AlarmKind.ANOMALY, message: str | None = None, cleared_ts: float | None = None,
              cloud_failure_mode: str | None = None, user: str | None = None, note: str | None = None) -> str:
        """One alarm with its "raised" event (``user``/``note`` on it, for the search tests)."""
        with self.db.begin() as c:
            c.execute(insert(schema.alarms), {
                "id": alarm_id, "asset": asset, "kind": kind.value, "priority": priority.value, "state": state.value,
                "raised_ts": raised_ts, "cleared_ts": cleared_ts, "last_active_ts": raised_ts, "peak_score": 2.5,
                "activations": 1, "top_channels": json.dumps([["flow", 0.7], ["pressure", 0.3]]),
                "message": message if message is not None else f"{asset}: anomaly (driven by flow)",
                "shelved_until": None, "cloud_state": "confirmed" if cloud_failure_mode else "none",
                "cloud_failure_mode": cloud_failure_mode, "cloud_priority": None, "cloud_confidence": None})
        self.event(alarm_id, raised_ts, AlarmEvent.RAISED, AlarmState.UNACK, user, note, score=2.5)
        return alarm_id

    def event(self, alarm_id: str, ts: float, event: AlarmEvent, state: AlarmState, user: str | None = None,
              note: str | None = None, score: float | None = None) -> None:
        with self.db.begin() as c:
            c.execute(insert(schema.alarm_events), {"alarm_id": alarm_id, "ts": ts, "event": event.value,
                                                    "state": state.value, "user": user, "note": note,
                                                    "score": score})

    def label(self, alarm_id: str, ts: float, user: str, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> None:
        with self.db.begin() as c:
            c.execute(insert(schema.labels), {"alarm_id": alarm_id, "ts": ts, "user": user, "verdict": verdict,
                                              "failure_mode": failure_mode, "note": note})
