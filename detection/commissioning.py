"""Learning what normal looks like for one operating state, and refusing a window that is not normal.

A learning window collects feature rows while the pump runs steadily, until it has enough of both: plant time
and samples (detection.timing.Span; at one sample a minute, two hours rather than five minutes). Then it is
checked before it is adopted: a window in which a process channel wanders by a large part of itself, drops out or
reads a flat line is not a baseline (a model learnt on it would call that chaos normal and miss the next fault).
Such a window is not adopted: its older half is dropped and learning goes on, and the reason is kept for the
operator ("Learning normal: 37 of 120 samples; flow unsteady"). A stop, a start or a speed change inside the
window starts it again (the pipeline sees those through detection.regime).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acquisition.channels import CHANNELS, CURRENT, FLOW, PRESSURE, VIB_DE, VIB_NDE
from detection.timing import Span

# The process channels a baseline must hold steady, in the order a reason names them. Supply voltage and the
# temperatures are not among them: the supply is not the pump's, and temperatures settle for an hour after a start.
CHECKED = (FLOW, PRESSURE, CURRENT, VIB_DE, VIB_NDE)
WANDER = 0.10  # structured variation (beyond sample-to-sample noise), as a fraction of the level, that is unsteady
MAX_MISSING = 0.1  # more of a channel's samples missing than this: not a baseline
MIN_FOR_VERDICT = 20  # samples before a partial window is judged (for the reason shown while learning)


@dataclass(frozen=True, slots=True)
class LearningProgress:
    """How far learning the current operating state has got, and what holds it up (None: nothing)."""

    samples: int
    needed: int
    reason: str | None = None

    def text(self) -> str:
        head = f"Learning normal: {self.samples} of {self.needed} samples"
        return f"{head}; {self.reason}" if self.reason else head


@dataclass(frozen=True, slots=True)
class Row:
    ts: float
    features: np.ndarray
    slow: np.ndarray  # smoothed temperatures
    current: float  # the regime's smoothed current: the key of the state
    raw: np.ndarray  # the sample's values (NaN = missing or flagged)
    flagged: np.ndarray  # channels their source (or the plausibility gate) flagged: not "missing"


class LearningWindow:
    def __init__(self, baseline: Span, warmup: Span, period_s: float) -> None:
        self._baseline, self._warmup = baseline, warmup
        self.rows: list[Row] = []
        self._t0: float | None = None
        self.reason: str | None = None
        self._checked_at = 0
        self.retime(period_s)

    def retime(self, period_s: float) -> None:
        self._warmup_s = self._warmup.at(period_s)
        self._warmup_s = min(self._warmup_s, 0.5 * self._baseline.at(period_s))
        self._span_s = max(self._baseline.seconds - self._warmup_s, 0.0)  # of kept samples, after the warm-up
        by_time = self._span_s / period_s - 1e-9
        self.needed = max(int(self._baseline.samples), int(np.ceil(by_time)) if np.isfinite(by_time) else 10**9)

    @property
    def active(self) -> bool:
        return self._t0 is not None

    def start(self, ts: float, rows: list[Row] | None = None) -> None:
        """Open the window at ``ts``, continuing ``rows`` of an earlier visit to the same state if given."""
        self._t0, self.rows, self._checked_at = ts, list(rows or []), len(rows or [])
        # This visit's warm-up and what a refused window dropped: not fitted, but judged (a longer look)
        self._primer: list[Row] = []
        self.reason = None

    def stop(self, reason: str | None = None) -> list[Row]:
        """Close the window; returns its rows (a suspended visit the pipeline may resume)."""
        rows = self.rows
        self._t0, self.rows, self._checked_at, self._primer = None, [], 0, []
        self.reason = reason
        return rows

    def progress(self) -> LearningProgress:
        return LearningProgress(len(self.rows), self.needed, self.reason)

    def take(self) -> list[Row]:
        """Close the window and hand over its rows as they stand, if they are steady (an offline baseline: the
        training rows are normal by definition, but a window that is not steady is still refused)."""
        self.reason = self._verdict() if self.rows else "no steady running"
        if self.reason is not None:
            raise ValueError(f"the baseline is not steady running: {self.reason}")
        rows = self.rows
        self.stop()
        return rows

    def add(self, row: Row) -> list[Row] | None:
        """Add one sample; the rows of a complete, steady window (then the window is closed), else None."""
        assert self._t0 is not None
        if row.ts - self._t0 < self._warmup_s:
            self._primer.append(row)  # priming the smoothers (temperature rates): judged, not fitted
            return None
        self.rows.append(row)
        n = len(self.rows)
        complete = n >= self.needed and row.ts - self.rows[0].ts >= self._span_s - 1e-9
        if not complete:
            if n >= MIN_FOR_VERDICT and n - self._checked_at >= max(10, self.needed // 6):
                self._checked_at = n
                self.reason = self._verdict()
            return None
        self.reason = self._verdict()
        if self.reason is None:
            rows = self.rows
            self.stop()
            return rows
        # Not a baseline: keep the newer half and go on learning. What is dropped stays in view for the verdict
        # (up to a window's worth), so a slow swing is not adopted from the moment the window sits on its crest.
        self._primer = (self._primer + self.rows[: n // 2])[-self.needed:]
        del self.rows[: n // 2]
        self._checked_at = len(self.rows)
        return None

    def _verdict(self) -> str | None:
        return unsteady(sorted(self._primer + self.rows, key=lambda r: r.ts))


def unsteady(rows: list[Row]) -> str | None:
    """Why these samples are no baseline ("flow unsteady", "pressure missing", "vib_de flat"), or None."""
    raw = np.array([r.raw for r in rows])
    flagged = np.array([r.flagged for r in rows])
    for c in CHECKED:
        col = raw[:, c]
        good = ~np.isnan(col)
        if not good.any():
            continue  # not measured here (or only ever flagged): nothing to judge
        if (~good & ~flagged[:, c]).mean() > MAX_MISSING:
            return f"{CHANNELS[c]} missing"
        v = col[good]
        if len(v) >= 10 and v.max() == v.min():
            return f"{CHANNELS[c]} flat"
        if _wander(v) > WANDER * abs(float(np.median(v))):
            return f"{CHANNELS[c]} unsteady"
    return None


def _wander(v: np.ndarray) -> float:
    """The part of a channel's spread that sample-to-sample noise does not explain: a level moving (drift, swing,
    a step) rather than a sensor's noise. Both spreads robust (interquartile range; MAD of successive
    differences), so a few wild samples do not make a window unsteady."""
    q25, q75 = np.quantile(v, [0.25, 0.75])
    total = (q75 - q25) / 1.349
    d = np.diff(v)
    noise = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2.0) if len(d) else 0.0
    structured = float(np.sqrt(max(total * total - noise * noise, 0.0)))
    return structured if structured > 2.0 * noise else 0.0
