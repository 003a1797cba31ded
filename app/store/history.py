"""Reading the store for the HMI: history of samples (peak-decimated; alarms: app/store/alarm_rows.py). Readers
open their own connections; these calls block and belong on a worker thread, never the GUI thread."""
from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, select

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


