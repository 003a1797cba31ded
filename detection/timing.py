"""Time constants that hold at any sampling rate, and the sampling period they are measured against.

Every smoother, window and delay in detection needs two things: enough plant time (a thermal drift, a settling
process) and enough samples (evidence: a level from one sample a minute is one noisy reading, not a minute of
data). A :class:`Span` says both; :meth:`Span.at` turns it into seconds for the period in use. At one sample a
second the seconds govern (the design was made there); at one a minute the samples do.

The period in use is what the source declares (simulator, Modbus frame period, MQTT ``[frames] period_s``) until
the data show a different one: :class:`PeriodEstimator` takes the median interval between new samples, so a
logger that publishes less often than the source frames, a CSV file, or a report-by-exception node are judged by
what really arrives.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

DEFAULT_PERIOD_S = 1.0


@dataclass(frozen=True, slots=True)
class Span:
    """At least ``seconds`` of data time and at least ``samples`` sample periods."""

    seconds: float
    samples: float

    def at(self, period_s: float) -> float:
        return max(self.seconds, self.samples * period_s)

    def count(self, period_s: float) -> int:
        """Whole samples this span holds at ``period_s`` (at least ``samples``)."""
        return max(math.ceil(self.samples - 1e-9), math.ceil(self.seconds / period_s - 1e-9))


def ewma_weight(dt: float, tau: float) -> float:
    return 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0


class PeriodEstimator:
    """The typical interval between samples: the median of the last ``n`` intervals (a gap or a burst of quick
    samples does not move it), the declared period until ``min_intervals`` have been seen."""

    def __init__(self, declared_s: float | None, n: int = 31, min_intervals: int = 8) -> None:
        self.declared_s = declared_s
        self._intervals: deque[float] = deque(maxlen=n)
        self._min = min_intervals
        self._since = 0
        self.period_s = declared_s if declared_s is not None else DEFAULT_PERIOD_S

    def add(self, dt: float) -> bool:
        """Record one interval; True when the typical period changed enough (x1.5) to re-time detection."""
        if not (dt > 0 and math.isfinite(dt)):
            return False
        self._intervals.append(dt)
        self._since += 1
        if len(self._intervals) < self._min or self._since < self._min:  # a median every few samples is plenty
            return False
        self._since = 0
        observed = float(np.median(self._intervals))
        if max(observed / self.period_s, self.period_s / observed) < 1.5:
            return False
        self.period_s = observed
        return True
