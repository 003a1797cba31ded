"""Which operating regime a pump is in, inferred from its own signals (real sources carry no regime tag).

Start-ups, shutdowns and set-point changes move every channel at once; they are operation, not anomalies.
The tracker recognises them so that scoring pauses while the pump settles and normalisation follows the
operating state. A set-point change is told from a fault by speed and coherence: a drive ramps current and flow
together within seconds, while faults either develop over minutes or push the channels apart (an outlet valve
closing raises pressure while flow and current fall).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from acquisition.channels import CURRENT, FLOW


class Regime(str, Enum):
    STOPPED = "stopped"
    STARTING = "starting"  # after a start, until settled
    TRANSITION = "transition"  # set-point change in progress, until settled
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class RegimeParams:
    settle_s: float = 60.0
    stopped_current: float = 0.3  # absolute floor, in the current channel's unit
    stopped_fraction: float = 0.15  # ...or this fraction of the highest running current seen
    fast_tau_s: float = 5.0
    slow_tau_s: float = 120.0
    step_current: float = 0.20  # relative fast-vs-slow change that marks a set-point ramp
    step_flow: float = 0.08
    wobble_sigmas: float = 4.0  # ...and this many times the usual fast-vs-slow wobble of the current
    wobble_tau_s: float = 600.0


class RegimeTracker:
    """Streaming regime classifier for one asset. ``update`` is O(1) per sample."""

    def __init__(self, params: RegimeParams | None = None) -> None:
        self.p = params or RegimeParams()
        self.regime = Regime.STOPPED
        self._settled_at = -math.inf
        self._last_ts: float | None = None
        self._i_fast = self._i_slow = self._q_fast = self._q_slow = math.nan
        self._i_peak = 0.0
        self._wobble = 0.0  # slow EWMA of (fast - slow current)^2: how much a healthy pump's current wanders
        self.changed = False  # True on the sample where the regime changed

    @property
    def current_level(self) -> float:
        """Smoothed motor current: the key of an operating state."""
        return self._i_fast

    def update(self, ts: float, values) -> Regime:  # noqa: ANN001 - a numpy row
        first = self._last_ts is None
        dt = 1.0 if first else max(ts - self._last_ts, 1e-6)
        self._last_ts = ts
        i, q = float(values[CURRENT]), float(values[FLOW])
        self._i_fast = _ewma(self._i_fast, i, dt, self.p.fast_tau_s)
        self._q_fast = _ewma(self._q_fast, q, dt, self.p.fast_tau_s)
        self._i_slow = _ewma(self._i_slow, i, dt, self.p.slow_tau_s)
        self._q_slow = _ewma(self._q_slow, q, dt, self.p.slow_tau_s)
        if math.isnan(self._i_fast):
            return self._set(self.regime)  # no good current yet: keep what we had
        stopped_below = max(self.p.stopped_current, self.p.stopped_fraction * self._i_peak)
        if self._i_fast < stopped_below:
            self._i_slow, self._q_slow = self._i_fast, self._q_fast
            return self._set(Regime.STOPPED)
        if first:  # joined a pump that is already running: nothing to settle
            return self._set(Regime.RUNNING)
        if self.regime is Regime.STOPPED:
            self._settled_at = ts + self.p.settle_s
            return self._set(Regime.STARTING)
        if self._ramping():
            self._settled_at = ts + self.p.settle_s
            return self._set(self.regime if self.regime is Regime.STARTING else Regime.TRANSITION)
        if ts < self._settled_at:
            return self._set(self.regime)
        a = 1.0 - math.exp(-dt / self.p.wobble_tau_s)
        self._wobble += a * ((self._i_fast - self._i_slow) ** 2 - self._wobble)
        self._i_peak = max(self._i_peak, self._i_fast)
        return self._set(Regime.RUNNING)

    def _ramping(self) -> bool:
        level = max(abs(self._i_slow), 1e-9)
        di = (self._i_fast - self._i_slow) / level
        dq = (self._q_fast - self._q_slow) / max(abs(self._q_slow), 1e-9)
        step = max(self.p.step_current, self.p.wobble_sigmas * math.sqrt(self._wobble) / level)
        if math.isnan(dq):
            return abs(di) > 2 * step
        return abs(di) > step and abs(dq) > self.p.step_flow and di * dq > 0

    def _set(self, regime: Regime) -> Regime:
        self.changed = regime is not self.regime
        self.regime = regime
        return regime


def _ewma(prev: float, x: float, dt: float, tau: float) -> float:
    if math.isnan(x):
        return prev
    if math.isnan(prev):
        return x
    a = 1.0 - math.exp(-dt / tau)
    return prev + a * (x - prev)
