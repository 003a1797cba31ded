"""A gate in front of detection for readings no process produced: a value that is not finite, or a gross outlier
against the channel's own recent samples (a Hampel identifier).

Why: every smoother and learnt reference downstream (regime, features, baselines) would otherwise take a single
``1e6`` from a mis-scaled or corrupted message as physics. The acquisition side marks values outside a configured
range BAD; this gate needs no configuration and holds whatever the source does.

Why it is safe: the gate learns nothing that outlives its two short windows. A value is rejected when it is
further from the median of the channel's last ``window`` raw values (itself included) than ``gross`` times the
channel's size there: its median magnitude plus its recent range (10th to 90th percentile of the last
``range_window`` values, so quantised channels that sit near zero, like SKAB's pressure, are judged by their
noise). A burst of up to ``window // 2`` samples cannot move either statistic; a genuine step, however large, is
accepted once it has lasted ``window // 2 + 1`` samples (in practice only a start-up from standstill is that
large: stops, set-point changes and faults move by less than ``gross`` times the level). A rejected value is
reported as not good for that sample: held, like a value its source flagged.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from acquisition.channels import N_CHANNELS

_COLS = np.arange(N_CHANNELS)


@dataclass(frozen=True, slots=True)
class GateParams:
    window: int = 7  # raw samples for the median: bursts of up to 3 samples are rejected
    range_window: int = 31  # raw samples for the range: its 10 % tails hold 3 samples each
    gross: float = 10.0  # rejected when further from the median than this many times (|median| + range)
    min_samples: int = 3  # below this many values in the window nothing can be judged: the value is held
    block_s: float = 600.0  # the channel's usual size: medians of |value| over blocks this long...
    block_n: int = 10  # ...and at least this many samples (at most BLOCK_CAP),
    memory_s: float = 86400.0  # the largest block median of the last day


BLOCK_CAP = 1024


class PlausibilityGate:
    """Per-asset gate; ``apply`` costs a few microseconds per sample (a full check every ``window`` samples or
    when a value comes near a limit)."""

    def __init__(self, params: GateParams | None = None) -> None:
        self.p = params or GateParams()
        self._ring = np.full((self.p.range_window, N_CHANNELS), np.nan)
        self._n = 0  # samples seen
        self.rejected = 0  # values rejected so far (diagnostics, tests)
        self._med = np.zeros(N_CHANNELS)
        self._half_limit = np.zeros(N_CHANNELS)
        self._reuse = 0  # samples the last full check's limits may still be used for
        self.usual = UsualSize(self.p)

    def apply(self, ts: float, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values with implausible ones set to NaN, mask of the values rejected here)."""
        finite = np.isfinite(values)
        all_finite = bool(finite.all())
        raw = values if all_finite else np.where(finite, values, np.nan)
        size, w = self.p.range_window, self.p.window
        self._ring[self._n % size] = raw
        self._n += 1
        if self.usual.add(ts, raw):
            self._reuse = 0
        # Fast path: well inside the limits of the last full check, which are at most ``window`` samples old.
        if all_finite and self._reuse > 0 and bool((np.abs(raw - self._med) <= self._half_limit).all()):
            self._reuse -= 1
            return raw, np.zeros(N_CHANNELS, dtype=bool)
        recent = self._ring[(self._n - 1 - np.arange(min(w, self._n))) % size]
        ordered = np.sort(recent, axis=0)  # NaN sort last
        count = np.count_nonzero(~np.isnan(ordered), axis=0)
        med = _quantile_of_sorted(ordered, count, 0.5)
        mag = _quantile_of_sorted(np.sort(np.abs(recent), axis=0), count, 0.5)
        longer = np.sort(self._ring, axis=0)
        n_long = np.count_nonzero(~np.isnan(longer), axis=0)
        spread = _quantile_of_sorted(longer, n_long, 0.9) - _quantile_of_sorted(longer, n_long, 0.1)
        # A pump starting after a stop comes back to the size it usually has: that is no outlier.
        limit = self.p.gross * np.fmax(mag + spread, self.usual.size)
        too_few = count < self.p.min_samples
        full = all_finite and bool((count == w).all())
        self._med, self._half_limit, self._reuse = med, 0.5 * limit, (w if full else 0)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(raw - med) <= limit) | too_few
        rejected = bad & ~np.isnan(values)  # NaN was already "no value"; +-inf and gross outliers are rejected
        if rejected.any():
            self.rejected += int(rejected.sum())
            raw = np.where(rejected, np.nan, raw)
        return raw, rejected


class UsualSize:
    """Per channel, the largest median |value| over blocks of the last day: what a running pump reads. Only
    sustained values make a block median; a wrong one ages out. Too large only makes the gate more lenient."""

    def __init__(self, p: GateParams) -> None:
        self.p = p
        self._block = np.full((BLOCK_CAP, N_CHANNELS), np.nan)
        self._n = 0
        self._t0: float | None = None
        self._medians: list[tuple[float, np.ndarray]] = []
        self.size = np.full(N_CHANNELS, np.nan)

    def add(self, ts: float, raw: np.ndarray) -> bool:
        """True when the usual size changed."""
        if self._t0 is None:
            self._t0 = ts
        self._block[self._n] = np.abs(raw)
        self._n += 1
        if self._n < BLOCK_CAP and (ts - self._t0 < self.p.block_s or self._n < self.p.block_n):
            return False
        block = self._block[: self._n]
        with warnings.catch_warnings():  # a channel with no value in the block has no median (NaN)
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(block, axis=0)
        self._medians = [(t, m) for t, m in self._medians if t >= ts - self.p.memory_s] + [(ts, med)]
        self._n, self._t0 = 0, None
        self.size = np.fmax.reduce(np.array([m for _, m in self._medians]), axis=0)  # NaN only where all are
        return True


def _quantile_of_sorted(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """Column quantiles (midpoint of the two nearest ranks) of NaN-last sorted columns holding ``count`` values
    each; NaN where a column has none."""
    pos = np.maximum(count - 1, 0) * q
    val = 0.5 * (ordered[np.floor(pos).astype(int), _COLS] + ordered[np.ceil(pos).astype(int), _COLS])
    return np.where(count > 0, val, np.nan)
