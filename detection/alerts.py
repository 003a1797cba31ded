"""From a score stream to alert conditions: threshold with hysteresis, a minimum duration, de-duplication.

The condition raises when the score has stayed at or above ``threshold`` for ``min_duration`` (so much time and so
many samples: one sample a minute above the threshold is not twenty seconds of evidence) and clears when it falls
below ``threshold * clear_ratio``. A raise within ``dedup_window`` of the previous clear on the same asset is the
same problem coming back: it is reported as a re-activation of that alert, not a new one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acquisition.channels import CHANNELS
from detection.timing import DEFAULT_PERIOD_S, Span


@dataclass(frozen=True, slots=True)
class AlertParams:
    threshold: float = 1.25
    clear_ratio: float = 0.5
    min_duration: Span = Span(20.0, 10)  # at 1 Hz ~3 level time constants; at any rate ~3 (detection.features)
    dedup_window: Span = Span(300.0, 5)
    top_channels: int = 3


@dataclass(frozen=True, slots=True)
class AlertStarted:
    ts: float
    score: float
    top_channels: tuple[tuple[str, float], ...]
    reactivation: bool  # True: the same problem within the de-duplication window


@dataclass(frozen=True, slots=True)
class AlertEnded:
    ts: float
    peak_score: float
    top_channels: tuple[tuple[str, float], ...]


AlertTransition = AlertStarted | AlertEnded


@dataclass(frozen=True, slots=True)
class RuleState:
    """What an asset's alert rule is looking at now, for the operator: the threshold the score must hold for
    ``min_s`` seconds and ``min_n`` samples, how long the current run above it has lasted, and (while active)
    the level below which the alert clears."""

    threshold: float
    clear_level: float
    min_s: float
    min_n: int
    active: bool = False
    above_s: float = 0.0  # the current run at or above the threshold (not active): its length so far ...
    above_n: int = 0  # ... and its samples

    def progress_text(self) -> str:
        """ "above threshold 4 of 20 s" while a run is under way; "" otherwise."""
        if self.active or self.above_n == 0:
            return ""
        return f"above threshold {self.above_s:.0f} of {self.min_s:.0f} s"


def held_score(ts: np.ndarray, scores: np.ndarray, min_s: float, min_n: int) -> np.ndarray:
    """At each sample, the level the score has held for the rule's whole minimum duration: the least score of the
    last ``min_s`` seconds and ``min_n`` samples (NaN where the history is shorter or a sample had no score).

    This is what :class:`AlertRule` compares: it raises at the first sample where this reaches the threshold, and
    an active alert clears at the first sample where this falls below the clear level (the newest score does)."""
    n = len(scores)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    idx = np.arange(n)
    by_time = np.searchsorted(ts, ts - min_s, side="right") - 1  # the newest sample at or before ts - min_s
    start = np.minimum(by_time, idx - max(int(min_n), 1) + 1)
    ok = start >= 0
    if not ok.any():
        return out
    width = int((idx - start)[ok].max()) + 1
    padded = np.concatenate((np.full(width - 1, np.inf), scores.astype(float)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)  # row i: scores[i - width + 1 .. i]
    outside = np.arange(width)[None, :] < (width - 1 - (idx - start))[:, None]
    least = np.where(outside, np.inf, windows).min(axis=1)  # NaN inside a window propagates: no run
    out[ok] = least[ok]
    return out


class AlertRule:
    """One asset's alert condition. Feed every scored sample (``score=None`` when not scoring)."""

    def __init__(self, params: AlertParams | None = None, period_s: float = DEFAULT_PERIOD_S) -> None:
        self.p = params or AlertParams()
        self.active = False
        self._pending_since: float | None = None
        self._pending_n = 0
        self._last_ts: float | None = None
        self._last_end = -math.inf
        self._peak = 0.0
        self._contrib = np.zeros(len(CHANNELS))
        self.retime(period_s)

    def retime(self, period_s: float) -> None:
        # n samples cover n - 1 periods; the count is checked too (irregular sampling)
        self._min_n = self.p.min_duration.samples
        self._min_s = max(self.p.min_duration.seconds, (self._min_n - 1) * period_s)
        self._dedup_s = self.p.dedup_window.at(period_s)

    def state(self) -> RuleState:
        """The rule as it stands after the last sample (read by the HMI's snapshot on another thread: plain
        attribute reads, each consistent on its own)."""
        since, n, last = self._pending_since, self._pending_n, self._last_ts
        above_s = last - since if since is not None and last is not None else 0.0
        return RuleState(self.p.threshold, self.p.threshold * self.p.clear_ratio, self._min_s, math.ceil(self._min_n),
                         self.active, max(above_s, 0.0), n if since is not None else 0)

    def update(self, ts: float, score: float | None, contributions: np.ndarray | None = None) -> AlertTransition | None:
        self._last_ts = ts
        if score is None or math.isnan(score):
            self._pending_since = None
            return self._end(ts) if self.active else None
        if self.active:
            if score > self._peak:
                self._peak = score
            if contributions is not None:
                self._contrib += contributions
            if score < self.p.threshold * self.p.clear_ratio:
                return self._end(ts)
            return None
        if score < self.p.threshold:
            self._pending_since = None
            self._contrib[:] = 0.0
            return None
        if self._pending_since is None:
            self._pending_since, self._peak, self._pending_n = ts, score, 0
            self._contrib[:] = 0.0
        else:
            self._peak = max(self._peak, score)
        self._pending_n += 1
        if contributions is not None:
            self._contrib += contributions
        if ts - self._pending_since < self._min_s or self._pending_n < self._min_n:
            return None
        self.active = True
        self._pending_since = None
        return AlertStarted(ts, score, self.top(), reactivation=ts - self._last_end <= self._dedup_s)

    def top(self) -> tuple[tuple[str, float], ...]:
        """Channels that drove the score so far, as shares of the total contribution (largest first)."""
        total = float(self._contrib.sum())
        if total <= 0:
            return ()
        order = np.argsort(-self._contrib)[: self.p.top_channels]
        return tuple((CHANNELS[i], round(float(self._contrib[i]) / total, 3)) for i in order if self._contrib[i] > 0)

    def _end(self, ts: float) -> AlertEnded:
        ended = AlertEnded(ts, self._peak, self.top())
        self.active = False
        self._last_end = ts
        self._peak = 0.0
        self._contrib[:] = 0.0
        return ended
