"""30 days of alarms of a 50-pump station, written into a Vigil database as the store writer writes them, for the
journal benchmark. A realistic bad month (EEMUA 191 / ISA-18.2 terms): a steady load of about 4 alarms per pump a
day with the 80/15/5 % low/medium/high split, five bad-actor pumps with fleeting alarms, five with one chattering
alarm a day (tens to hundreds of re-activations each), and floods (150-300 alarms in 10 minutes across the plant,
a third of them diagnostics). Operators acknowledge (some with notes), shelve, take pumps out of service; the cloud
answers anomalies; technicians label some and revise a few labels. No Qt here."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.store import schema
from detection.failure_modes import FailureMode

DAY = 86_400.0
E, S = AlarmEvent, AlarmState
USERS = ("operator", "ana", "tom", "technician", "supervisor")
NOTES = ("Checked on site", "Known cause", "Maintenance informed", "Operating change", "Valve 50% open, see log",
         "Strainer cleaned", "Flow meter reading low - calibration due", "It's the 'usual' startup transient")
MODES = tuple(FailureMode)


@dataclass
class MonthOfAlarms:
    rng: np.random.Generator
    alarms: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)

    def _ev(self, alarm_id: str, ts: float, event: AlarmEvent, state: AlarmState, user: str | None = None,
            note: str | None = None, score: float | None = None) -> None:
        self.events.append({"alarm_id": alarm_id, "ts": ts, "event": event.value, "state": state.value,
                            "user": user, "note": note, "score": score})

    def add(self, asset: str, ts: float, kind: AlarmKind, priority: Priority, end: float, chatter: int = 0,
            lasts_s: float | None = None) -> None:
        rng = self.rng
        alarm_id = f"{len(self.alarms):08x}{int(rng.integers(1 << 62)):024x}"[:32]
        score = float(1.2 + rng.exponential(1.0)) if kind is AlarmKind.ANOMALY else 0.0
        self._ev(alarm_id, ts, E.RAISED, S.UNACK, score=score)
        cloud: dict[str, Any] = {"cloud_state": "none", "cloud_failure_mode": None, "cloud_priority": None,
                                 "cloud_confidence": None}
        if kind is AlarmKind.ANOMALY:
            self._ev(alarm_id, ts + 1.5, E.CLOUD_ANALYZING, S.UNACK)
            confirmed = rng.random() < 0.7
            mode = MODES[int(rng.integers(len(MODES)))].value if confirmed else None
            text = f"cloud confirmed: {mode} - {priority.upper()}" if confirmed else "cloud: not confirmed"
            self._ev(alarm_id, ts + 20, E.CLOUD_CONFIRMED if confirmed else E.CLOUD_NOT_CONFIRMED, S.UNACK, note=text)
            cloud = {"cloud_state": "confirmed" if confirmed else "not_confirmed", "cloud_failure_mode": mode,
                     "cloud_priority": priority.value if confirmed else None, "cloud_confidence": 0.8}
        t = ts + 25
        for _ in range(chatter):  # clears and comes back within the minute, again and again (RTNUN <-> UNACK)
            t += float(rng.uniform(5, 25))
            self._ev(alarm_id, t, E.CLEARED, S.RTNUN)
            t += float(rng.uniform(5, 25))
            self._ev(alarm_id, t, E.REACTIVATED, S.UNACK, score=score)
        duration = lasts_s if lasts_s is not None else float(rng.exponential(900))
        cleared_ts: float | None = t + duration
        acked = rng.random() < 0.93
        ack_ts = ts + float(rng.exponential(240)) + 10
        state = S.UNACK
        if acked and ack_ts < end:
            note = NOTES[int(rng.integers(len(NOTES)))] if rng.random() < 0.3 else None
            self._ev(alarm_id, ack_ts, E.ACKNOWLEDGED, S.ACKED, USERS[int(rng.integers(3))], note)
            state = S.ACKED
        held = rng.random()
        if held < 0.05 and state is S.ACKED:
            self._ev(alarm_id, ack_ts + 60, E.SHELVED, S.SHLVD, "technician", "Known cause")
            self._ev(alarm_id, ack_ts + 3660, E.SHELVING_EXPIRED, S.ACKED)
        elif held < 0.08 and kind is AlarmKind.ANOMALY:
            self._ev(alarm_id, ts + 30, E.SUPPRESSED, S.DSUPR)
            self._ev(alarm_id, ts + 330, E.UNSUPPRESSED, state)
        elif held < 0.09:
            self._ev(alarm_id, ts + 40, E.OUT_OF_SERVICE, S.OOSRV, "supervisor", "Bearing change planned")
            self._ev(alarm_id, ts + 7200, E.RETURNED_TO_SERVICE, state, "supervisor")
        if cleared_ts is not None and cleared_ts < end:
            state = S.NORM if state is S.ACKED else S.RTNUN
            self._ev(alarm_id, cleared_ts, E.CLEARED, state)
        else:
            cleared_ts = None
        if kind is AlarmKind.ANOMALY and rng.random() < 0.15:
            lt = ts + float(rng.exponential(3600)) + 60
            mode = MODES[int(rng.integers(len(MODES)))].value
            self.labels.append({"alarm_id": alarm_id, "ts": lt, "user": "technician", "verdict": "failure",
                                "failure_mode": mode, "note": "Found on inspection" if rng.random() < 0.5 else None})
            if rng.random() < 0.2:
                self.labels.append({"alarm_id": alarm_id, "ts": lt + 3600, "user": "supervisor",
                                    "verdict": "false_alarm", "failure_mode": None, "note": "Revised after review"})
        self.alarms.append({
            "id": alarm_id, "asset": asset, "kind": kind.value, "priority": priority.value, "state": state.value,
            "raised_ts": ts, "cleared_ts": cleared_ts, "last_active_ts": t, "peak_score": score,
            "activations": 1 + chatter, "top_channels": json.dumps([["flow", 0.6], ["pressure", 0.3]]),
            "message": (f"{asset}: communication lost" if kind is AlarmKind.DIAGNOSTIC else
                        f"{asset}: anomaly score {score:.2f} (driven by flow 60%, pressure 30%)"),
            "shelved_until": None, **cloud})


def _priority(rng: np.random.Generator) -> Priority:
    r = rng.random()
    return Priority.LOW if r < 0.8 else Priority.MEDIUM if r < 0.95 else Priority.HIGH


def month_of_alarms(assets: tuple[str, ...], end: float, days: int = 30, seed: int = 12) -> MonthOfAlarms:
    rng = np.random.default_rng(seed)
    m = MonthOfAlarms(rng)
    start = end - days * DAY
    for asset in assets:  # the steady load
        for ts in np.sort(rng.uniform(start, end, rng.poisson(4 * days))):
            kind = AlarmKind.DIAGNOSTIC if rng.random() < 0.15 else AlarmKind.ANOMALY
            m.add(asset, float(ts), kind, _priority(rng), end)
    for asset in assets[:5]:  # bad actors: fleeting alarms, 40 a day
        for ts in np.sort(rng.uniform(start, end, 40 * days)):
            m.add(asset, float(ts), AlarmKind.ANOMALY, Priority.LOW, end, lasts_s=float(rng.uniform(2, 20)))
    for asset in assets[5:10]:  # chattering: one alarm a day that comes and goes tens to hundreds of times
        for day in range(days):
            m.add(asset, start + day * DAY + float(rng.uniform(0, DAY - 20_000)), AlarmKind.ANOMALY,
                  Priority.MEDIUM, end, chatter=int(rng.integers(20, 300)))
    for flood_ts in np.sort(rng.uniform(start, end - 900, 15)):  # floods: a power dip, a header pressure surge
        for ts in np.sort(flood_ts + rng.uniform(0, 600, int(rng.integers(150, 300)))):
            kind = AlarmKind.DIAGNOSTIC if rng.random() < 0.33 else AlarmKind.ANOMALY
            m.add(assets[int(rng.integers(len(assets)))], float(ts), kind, _priority(rng), end)
    return m


def write_month(db: Engine, month: MonthOfAlarms) -> dict[str, float]:
    """Insert it all (one transaction per table); returns the row counts and the seconds it took."""
    t0 = time.perf_counter()
    with db.begin() as c:
        c.execute(insert(schema.alarms), month.alarms)
    with db.begin() as c:
        c.execute(insert(schema.alarm_events), month.events)
    with db.begin() as c:
        c.execute(insert(schema.labels), month.labels)
    return {"alarms": len(month.alarms), "events": len(month.events), "labels": len(month.labels),
            "seconds": time.perf_counter() - t0}


def seed_month(path: str, pumps: int, days: int) -> dict[str, float]:
    """A store at ``path`` holding ``days`` of a ``pumps``-pump station's bad month (journal, shift, KPI benches)."""
    from acquisition.simulator import StationConfig
    from acquisition.simulator.station import DEFAULT_START_TS
    from app.store.database import open_database

    assets = StationConfig(n_pumps=pumps).assets
    assert assets is not None
    db = open_database(path)
    out = write_month(db, month_of_alarms(assets, DEFAULT_START_TS, days))
    db.dispose()
    return out
