"""Peak decimation: what a screen can show of 36,000 samples in 560 pixels, and what stored history sends it.

One reduction for both: runs of samples that share a bucket become the per-channel min and max of the run
(:func:`bucket_peaks`), with ``np.fmin``/``np.fmax``, so a channel that was never good in a bucket (all NaN: its
quality was not good) stays NaN there - the curve shows a gap, never a made-up value - and numpy warns about
nothing ("All-NaN slice" came from ``np.nanmin`` on such buckets).

- :func:`decimate_peaks` cuts stored history (app/store/history.py) into buckets of consecutive samples, so the
  reader gets at most ``max_points`` rows from a day of samples.
- :class:`PeakEnvelope` is the trend's live envelope: the time axis cut into buckets of one pixel's width aligned
  to absolute time (``floor(t / dt)``), so scrolling keeps every bucket, a live append updates only the newest one,
  and all channels are reduced together. Why not pyqtgraph's own peak downsampling: it re-decimates every curve
  from all its samples on every ``setData`` and every range change (about 8 ms a frame for 17 curves). Only
  non-empty buckets are stored (zoomed in past one sample per pixel there are no gaps). Stored as the curve draws
  it: x ``[t_k, t_k, ...]`` and per row ``[min_k, max_k, ...]`` (a vertical stroke per pixel column), so a visible
  span is a slice (a view, no copy) of preallocated arrays.

No Qt here: the store's reader and the HMI's trends both use it (imports point app.ui -> app).
"""
from __future__ import annotations

import numpy as np

_EMPTY = np.empty(0)


def bucket_peaks(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index of each run's first sample, per row min, per row max) over the runs of equal consecutive ``keys``
    (one bucket number per sample, non-decreasing) of ``values`` (rows, n), n >= 1. A row with no finite
    value in a run is NaN there, without a warning."""
    firsts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    return firsts, np.fmin.reduceat(values, firsts, axis=1), np.fmax.reduceat(values, firsts, axis=1)


def decimate_peaks(ts: np.ndarray, values: np.ndarray, scores: np.ndarray, max_points: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most ``max_points`` rows of ``ts`` (n,), ``values`` (n, channels) and ``scores`` (n,) (two when it is
    less than two): the samples cut into ``max_points // 2`` buckets of consecutive samples, each giving its min
    at its first sample's time and its max at its middle sample's time, per channel, so spikes survive zooming
    out; the score's peak at both. Returned as they are when there are no more than ``max_points``."""
    n = len(ts)
    if n <= max_points:
        return ts, values, scores
    buckets = max(max_points // 2, 1)
    keys = np.arange(n) * buckets // n  # bucket k: samples ceil(k n / buckets) .. ceil((k + 1) n / buckets) - 1
    firsts, lo, hi = bucket_peaks(keys, np.vstack((values.T, scores)))
    middles = (firsts + np.append(firsts[1:], n)) // 2
    m = len(firsts)
    out_t = np.empty(2 * m)
    out_t[0::2], out_t[1::2] = ts[firsts], ts[middles]
    out_v = np.empty((2 * m, values.shape[1]))
    out_v[0::2], out_v[1::2] = lo[:-1].T, hi[:-1].T
    return out_t, out_v, np.repeat(hi[-1], 2)


class PeakEnvelope:
    def __init__(self, rows: int, capacity: int = 4096) -> None:
        self.rows = rows
        self.dt = 0.0
        self._cap = capacity
        self._k = np.empty(capacity, np.int64)  # bucket index per stored bucket
        self._x = np.empty(2 * capacity)
        self._y = np.empty((rows, 2 * capacity))
        self._n = 0  # stored buckets
        self.last_ts = -np.inf  # newest sample folded in
        self.first_ts = np.inf  # oldest sample folded in (a rebuild is needed to show anything before it)

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._n = 0
        self.last_ts, self.first_ts = -np.inf, np.inf

    def rebuild(self, dt: float, ts: np.ndarray, values: np.ndarray, t_from: float = -np.inf) -> None:
        """All samples at or after ``t_from``, ``values`` (rows, n), in buckets of ``dt`` seconds."""
        self.dt = float(dt)
        self.clear()
        i0 = int(np.searchsorted(ts, t_from)) if np.isfinite(t_from) else 0
        self.append(ts[i0:], values[:, i0:])
        if i0 < len(ts):
            self.first_ts = float(ts[i0])

    def append(self, ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Fold in samples newer than :attr:`last_ts` (older ones are ignored). Returns per row (min, max) of
        what was added (NaN where all were NaN), or None: the caller widens a fixed y range only when it must."""
        if not len(ts) or self.dt <= 0:
            return None
        if ts[0] <= self.last_ts:
            i = int(np.searchsorted(ts, self.last_ts, side="right"))
            ts, values = ts[i:], values[:, i:]
            if not len(ts):
                return None
        if self._n == 0:
            self.first_ts = float(ts[0])
        k = np.floor(ts / self.dt).astype(np.int64)
        firsts, lo, hi = bucket_peaks(k, values)
        keys = k[firsts]
        added = np.fmin.reduce(lo, axis=1), np.fmax.reduce(hi, axis=1)
        if self._n and keys[0] == self._k[self._n - 1]:  # the newest stored bucket goes on filling
            j = 2 * (self._n - 1)
            np.fmin(self._y[:, j], lo[:, 0], out=self._y[:, j])
            np.fmax(self._y[:, j + 1], hi[:, 0], out=self._y[:, j + 1])
            keys, lo, hi = keys[1:], lo[:, 1:], hi[:, 1:]
        m = len(keys)
        if m:
            self._reserve(self._n + m)
            a = self._n
            self._k[a:a + m] = keys
            self._x[2 * a:2 * (a + m)] = np.repeat(keys * self.dt, 2)
            self._y[:, 2 * a:2 * (a + m):2] = lo
            self._y[:, 2 * a + 1:2 * (a + m):2] = hi
            self._n += m
        self.last_ts = float(ts[-1])
        return added

    def _reserve(self, n: int) -> None:
        if n <= self._cap:
            return
        cap = max(n, 2 * self._cap)
        k, x, y = self._k, self._x, self._y
        self._k = np.empty(cap, np.int64)
        self._x = np.empty(2 * cap)
        self._y = np.empty((self.rows, 2 * cap))
        self._k[:self._n] = k[:self._n]
        self._x[:2 * self._n] = x[:2 * self._n]
        self._y[:, :2 * self._n] = y[:, :2 * self._n]
        self._cap = cap

    def drop_before(self, t: float) -> None:
        """Forget buckets that end before ``t`` (scrolled out of reach), keeping storage bounded."""
        i = self.index_of(t)
        if i <= 0:
            return
        n = self._n - i
        self._k[:n] = self._k[i:self._n]
        self._x[:2 * n] = self._x[2 * i:2 * self._n]
        self._y[:, :2 * n] = self._y[:, 2 * i:2 * self._n]
        self._n = n
        self.first_ts = float(self._k[0] * self.dt)

    def index_of(self, t: float) -> int:
        """The first stored bucket that ends after ``t``."""
        if self.dt <= 0 or not np.isfinite(t):
            return 0
        return int(np.searchsorted(self._k[:self._n], np.floor(t / self.dt), side="left"))

    def xy(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(x (2m,), y (rows, 2m)) of buckets ``start`` to ``stop``: views, valid until the next change."""
        stop = self._n if stop is None else min(stop, self._n)
        if stop <= start:
            return _EMPTY, self._y[:, :0]
        return self._x[2 * start:2 * stop], self._y[:, 2 * start:2 * stop]

    def bounds(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Per row (min, max) over the buckets touching [t0, t1]; NaN where a row has no finite value."""
        i0, i1 = self.index_of(t0), self.index_of(t1 + self.dt) if self.dt > 0 else self._n
        seg = self._y[:, 2 * i0:2 * i1]
        if not seg.shape[1]:
            nan = np.full(self.rows, np.nan)
            return nan, nan
        return np.fmin.reduce(seg, axis=1), np.fmax.reduce(seg, axis=1)
