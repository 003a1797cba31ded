"""Per-minute telemetry aggregates per asset, for the uplink's telemetry stream (docs/uplink.md).

Fed by the detection thread with every frame's usable values (NaN = not good) and score; hands back one body per
asset and minute when a sample of the next minute arrives (source time, so a replay or a fast simulator
aggregates plant minutes, not wall minutes).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from acquisition.channels import N_CHANNELS
from detection.cloud.protocol import json_numbers


class _Minute:
    __slots__ = ("minute", "n", "sum", "cnt", "min", "max", "score_max", "regime")

    def __init__(self, minute: float) -> None:
        self.minute = minute
        self.n = 0
        self.sum = np.zeros(N_CHANNELS)
        self.cnt = np.zeros(N_CHANNELS)
        self.min = np.full(N_CHANNELS, np.inf)
        self.max = np.full(N_CHANNELS, -np.inf)
        self.score_max: float | None = None
        self.regime = ""


class TelemetryAggregator:
    def __init__(self, period_s: float = 60.0) -> None:
        self.period_s = period_s
        self._open: dict[str, _Minute] = {}

    def add(self, asset: str, ts: float, values: np.ndarray, score: float | None, regime: str) -> dict | None:
        """Returns the finished previous minute's body when ``ts`` starts a new minute, else None."""
        minute = math.floor(ts / self.period_s) * self.period_s
        cur = self._open.get(asset)
        done = None
        if cur is not None and minute != cur.minute:
            done = self._body(asset, cur)
            cur = None
        if cur is None:
            cur = self._open[asset] = _Minute(minute)
        good = ~np.isnan(values)
        cur.n += 1
        cur.sum += np.where(good, values, 0.0)
        cur.cnt += good
        cur.min = np.where(good, np.minimum(cur.min, values), cur.min)
        cur.max = np.where(good, np.maximum(cur.max, values), cur.max)
        if score is not None and math.isfinite(score):
            cur.score_max = score if cur.score_max is None else max(cur.score_max, score)
        cur.regime = regime
        return done

    def _body(self, asset: str, m: _Minute) -> dict:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.where(m.cnt > 0, m.sum / np.maximum(m.cnt, 1), np.nan)
        return {"asset": asset, "minute_ts": m.minute, "n": m.n, "mean": json_numbers(mean),
                "min": json_numbers(np.where(m.cnt > 0, m.min, np.nan)),
                "max": json_numbers(np.where(m.cnt > 0, m.max, np.nan)),
                "score_max": None if m.score_max is None else round(m.score_max, 6), "regime": m.regime}
