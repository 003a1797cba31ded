"""Reading the store for the HMI: history of samples (peak-decimated; alarms: app/store/alarm_rows.py). Readers
open their own connections; these calls block and belong on a worker thread, never the GUI thread."""
from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, select

from acquisition.channels import N_CHANNELS
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


def decimate_peaks(ts: np.ndarray, values: np.ndarray, scores: np.ndarray, max_points: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep each bucket's first sample's time with its min and max per channel, so spikes survive zooming out."""
    n = len(ts)
    if n <= max_points:
        return ts, values, scores
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    out_t, out_v, out_s = [], [], []
    for a, b in zip(edges[:-1], edges[1:]):
        if b <= a:
            continue
        seg = values[a:b]
        out_t += [ts[a], ts[(a + b) // 2]]
        out_v += [np.nanmin(seg, axis=0), np.nanmax(seg, axis=0)]
        sc = scores[a:b]
        peak = np.nanmax(sc) if np.isfinite(sc).any() else np.nan
        out_s += [peak, peak]
    return np.array(out_t), np.array(out_v), np.array(out_s)
