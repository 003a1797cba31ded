"""Reading the store for the HMI: history of samples (peak-decimated) and of alarms. Readers open their own
connections; these calls block and belong on a worker thread, never the GUI thread."""
from __future__ import annotations

import json

import numpy as np
from sqlalchemy import Engine, Select, select

from acquisition.channels import N_CHANNELS
from app.peaks import decimate_peaks
from app.store import schema


def sample_history(db: Engine, asset: str, t0: float, t1: float, max_points: int = 4000
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = schema.samples
    with db.connect() as c:
        rows = c.execute(select(s.c.ts, s.c["values"], s.c.score).where(s.c.asset == asset, s.c.ts >= t0,
                                                                          s.c.ts <= t1).order_by(s.c.ts)).all()
    if not rows:
        return np.empty(0), np.empty((0, N_CHANNELS)), np.empty(0)
    ts = np.fromiter((r[0] for r in rows), float, len(rows))
    values = np.frombuffer(b"".join(r[1] for r in rows), "<f8").reshape(len(rows), N_CHANNELS)
    scores = np.fromiter((np.nan if r[2] is None else r[2] for r in rows), float, len(rows))
    return decimate_peaks(ts, values, scores, max_points)


def alarm_rows(db: Engine, since_ts: float | None = None, limit: int = 500) -> list[dict]:
    a = schema.alarms
    q = select(a).order_by(a.c.raised_ts.desc()).limit(limit)
    if since_ts is not None:
        q = q.where(a.c.raised_ts >= since_ts)
    return _alarm_dicts(db, q)


def current_alarm_rows(db: Engine) -> list[dict]:
    """Alarms a previous run left needing attention (not NORM)."""
    return _alarm_dicts(db, select(schema.alarms).where(schema.alarms.c.state != "NORM"))


def _alarm_dicts(db: Engine, query: Select) -> list[dict]:
    with db.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(query)]
    for r in rows:
        r["top_channels"] = tuple(tuple(x) for x in json.loads(r["top_channels"]))
    return rows


def out_of_service_assets(db: Engine) -> list[str]:
    t = schema.asset_settings
    with db.connect() as c:
        return [r[0] for r in c.execute(select(t.c.asset).where(t.c.out_of_service == 1))]


def latest_labels(db: Engine, alarm_ids: list[str]) -> dict[str, dict]:
    lab = schema.labels
    out: dict[str, dict] = {}
    if not alarm_ids:
        return out
    with db.connect() as c:
        for r in c.execute(select(lab).where(lab.c.alarm_id.in_(alarm_ids)).order_by(lab.c.ts)):
            revision = out.get(r.alarm_id, {}).get("revision", 0) + 1
            out[r.alarm_id] = {**r._mapping, "revision": revision}  # the latest, and how many there were
    return out
