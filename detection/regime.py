"""Which operating regime a pump is in, inferred from its own signals (real sources carry no regime tag).

Start-ups, shutdowns and set-point changes move every channel at once; they are operation, not anomalies.
The tracker recognises them so that scoring pauses while the pump settles and normalisation follows the
operating state. A set-point change is told from a fault by its signature: a drive changing speed moves
current, flow, discharge pressure and vibration together, in the same direction, within seconds (affinity
laws). Faults break that coherence: cavitation and a throttled inlet raise vibration while flow falls, a
closing outlet raises pressure while flow falls, a seal leak raises current while flow falls.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from acquisition.channels import CURRENT, FLOW, PRESSURE, VIB_DE
from detection.timing import DEFAULT_PERIOD_S, Span, ewma_weight


class Regime(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"  # after a start, until settled
    TRANSITION = "transition"  # set-point change in progress, until settled
    RUNNING = "running"


_WATCHED = np.array([CURRENT, FLOW, PRESSURE, VIB_DE])


@dataclass(frozen=True, slots=True)
class RegimeParams:
    settle: Span = Span(60.0, 3)  # after a start or a speed change, before the pump counts as steady
    stopped_current: float = 0.3  # absolute floor, in the current channel's unit
    stopped_fraction: float = 0.15  # ...or this fraction of the usual running current (RunningLevel)
    fast_tau: Span = Span(2.0, 1)
    slow_tau: Span = Span(120.0, 5)
    # Relative fast-vs-slow change of current, flow, pressure, vibration that together mark a speed change.
    steps: tuple[float, float, float, float] = (0.08, 0.04, 0.02, 0.05)
    wobble_sigmas: float = 4.0  # each step is at least this many times the channel's usual fast-vs-slow wobble
    wobble_tau: Span = Span(600.0, 60)
    level_block: Span = Span(600.0, 10)  # the usual running current: medians of blocks of running this long,
    level_memory_s: float = 86400.0  # the highest block median of the last day


class RegimeTracker:
    """Streaming regime classifier for one asset. ``update`` is O(1) per sample."""

    def __init__(self, params: RegimeParams | None = None, period_s: float = DEFAULT_PERIOD_S) -> None:
        self.p = params or RegimeParams()
        self.regime = Regime.STOPPED
        self.changed = False  # True on the sample where the regime changed
        self.moving = False  # True on a sample where the pump is stopped, starting or changing speed
        self._settled_at = -math.inf
        self._last_ts: float | None = None
        self._fast = np.full(len(_WATCHED), np.nan)
        self._slow = np.full(len(_WATCHED), np.nan)
        self._wobble = np.zeros(len(_WATCHED))  # slow EWMA of (fast - slow)^2: how much a healthy pump wanders
        self._steps = np.array(self.p.steps)
        self.running_level = RunningLevel(self.p.level_block.samples, self.p.level_memory_s)
        self._interrupted = False
        self.retime(period_s)

    def retime(self, period_s: float) -> None:
        """Re-derive every time constant for samples ``period_s`` apart (see detection.timing)."""
        p = self.p
        self._settle, self._fast_tau, self._slow_tau = p.settle.at(period_s), p.fast_tau.at(period_s), \
            p.slow_tau.at(period_s)
        self._wobble_tau = p.wobble_tau.at(period_s)
        self.running_level.block_s = p.level_block.at(period_s)

    def interrupted(self) -> None:
        """The data stopped for a while (a device outage): the next sample re-settles like a set-point change,
        since the process may have moved meanwhile."""
        self._interrupted = True

    @property
    def current_level(self) -> float:
        """Smoothed motor current: the key of an operating state."""
        return float(self._fast[0])

    def update(self, ts: float, values: np.ndarray) -> Regime:
        first = math.isnan(self._fast[0])  # the first sample with a current
        dt = 1.0 if self._last_ts is None else max(ts - self._last_ts, 1e-6)
        gap, self._interrupted = self._interrupted, False
        self._last_ts = ts
        x = values[_WATCHED]
        self._fast = _ewma(self._fast, x, dt, self._fast_tau)
        self._slow = _ewma(self._slow, x, dt, self._slow_tau)
        current = self._fast[0]
        self.running_level.expire(ts)
        self.moving = True
        if math.isnan(current):
            return self._set(self.regime)  # no good current yet: keep what we had
        if current < max(self.p.stopped_current, self.p.stopped_fraction * self.running_level.value):
            self._slow = self._fast.copy()
            return self._set(Regime.STOPPED)
        if first:  # joined a pump that is already running: nothing to settle
            self.moving = False
            return self._set(Regime.RUNNING)
        if self.regime is Regime.STOPPED:
            self._settled_at = ts + self._settle
            return self._set(Regime.STARTING)
        if gap or self._speed_changing():
            self._settled_at = ts + self._settle
            return self._set(self.regime if self.regime is Regime.STARTING else Regime.TRANSITION)
        self.moving = False
        if ts < self._settled_at:
            return self._set(self.regime)
        a = ewma_weight(dt, self._wobble_tau)
        # Huber-like: one wild sample adds at most (3 usual wobbles or a step)^2, so it cannot blind the
        # speed-change test for hours; a pump that really wanders more still gets there, sample by sample.
        cap = np.maximum(9.0 * self._wobble, (self._steps * np.abs(self._slow)) ** 2)
        dev2 = np.fmin((self._fast - self._slow) ** 2, cap)  # fmin: a NaN (channel not measured) gives the cap...
        self._wobble += a * (np.where(np.isnan(dev2), 0.0, dev2) - self._wobble)  # ...and NaN in both: nothing
        self.running_level.add(ts, dt, current)
        return self._set(Regime.RUNNING)

    def _speed_changing(self) -> bool:
        scale = np.maximum(np.abs(self._slow), 1e-9)
        d = (self._fast - self._slow) / scale
        need = np.maximum(self._steps, self.p.wobble_sigmas * np.sqrt(self._wobble) / scale)
        known = ~np.isnan(d)
        if not known[0]:
            return False
        big = np.abs(d[known]) > need[known]
        same_way = np.all(np.sign(d[known]) == np.sign(d[0]))
        return bool(big.all() and same_way)

    def _set(self, regime: Regime) -> Regime:
        self.changed = regime is not self.regime
        self.regime = regime
        return regime


def _ewma(prev: np.ndarray, x: np.ndarray, dt: float, tau: float) -> np.ndarray:
    a = ewma_weight(dt, tau)
    out = np.where(np.isnan(prev), x, prev + a * (x - prev))
    return np.where(np.isnan(out), prev, out)


class RunningLevel:
    """The usual running motor current, from sustained evidence only: the highest median of blocks of settled
    running within the last ``memory_s``. A burst shorter than half a block cannot move a block median, and a
    level that was wrong (a sensor stuck high for a block) ages out instead of deciding "stopped" forever."""

    def __init__(self, block_n: float, memory_s: float) -> None:
        self.block_s = math.inf  # set by RegimeTracker.retime
        self._block_n, self._memory_s = block_n, memory_s
        self._values: list[float] = []
        self._span = 0.0
        self._medians: deque[tuple[float, float]] = deque()
        self.value = 0.0  # 0 until the first block: only the absolute floor decides "stopped"

    def add(self, ts: float, dt: float, current: float) -> None:
        if not math.isfinite(current):
            return
        self._values.append(current)
        self._span += dt
        if self._span < self.block_s or len(self._values) < self._block_n:
            return
        self._medians.append((ts, float(np.median(self._values))))
        self._values.clear()
        self._span = 0.0
        self.value = max(m for _, m in self._medians)

    def expire(self, ts: float) -> None:
        if self._medians and self._medians[0][0] < ts - self._memory_s:
            while self._medians and self._medians[0][0] < ts - self._memory_s:
                self._medians.popleft()
            self.value = max((m for _, m in self._medians), default=0.0)
