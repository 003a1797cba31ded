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


class AlertRule:
    """One asset's alert condition. Feed every scored sample (``score=None`` when not scoring)."""

    def __init__(self, params: AlertParams | None = None, period_s: float = DEFAULT_PERIOD_S) -> None:
        self.p = params or AlertParams()
        self.active = False
        self._pending_since: float | None = None
        self._pending_n = 0
        self._last_end = -math.inf
        self._peak = 0.0
        self._contrib = np.zeros(len(CHANNELS))
        self.retime(period_s)

    def retime(self, period_s: float) -> None:
        # n samples cover n - 1 periods; the count is checked too (irregular sampling)
        self._min_n = self.p.min_duration.samples
        self._min_s = max(self.p.min_duration.seconds, (self._min_n - 1) * period_s)
        self._dedup_s = self.p.dedup_window.at(period_s)

    def update(self, ts: float, score: float | None, contributions: np.ndarray | None = None) -> AlertTransition | None:
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
