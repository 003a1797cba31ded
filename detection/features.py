"""Streaming, causal features of one pump: each value at time t uses only samples up to t.

Per fast channel (vibrations, current, pressure, voltage, flow): a smoothed level and a smoothed spread (EWMA
of the squared deviation), so both shifts and changes in roughness show (cavitation, a stuck sensor's flat
line). Current per flow ties channels together as physics does: what the motor pays per unit delivered.
Slow temperatures enter through their rate of change: their level wanders with load, weather and time since
start. A missing-value fraction makes a sensor that drops out visible. Everything is O(channels) per sample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from acquisition.channels import CHANNELS, CURRENT, FLOW, FLUID_TEMP, MOTOR_TEMP, PRESSURE, VIB_DE, VIB_NDE, VOLTAGE

V_REF_SAMPLES = 5
V_RATIO_PLAUSIBLE = (0.5, 2.0)  # a supply further off than this is not corrected for (an outage, a bad reading)
SPREAD_FLOOR = 0.25  # a short-window spread estimate itself varies by ~this much
FAST = (VIB_DE, VIB_NDE, CURRENT, PRESSURE, VOLTAGE, FLOW)
SLOW = (MOTOR_TEMP, FLUID_TEMP)


class Kind(str, Enum):
    """How a feature's deviation is judged (see detection.model)."""

    LEVEL = "level"  # two-sided, against a slowly tracking reference
    SPREAD = "spread"  # only a rise counts, and a collapse to a flat line
    RATE = "rate"  # only a rise counts, and only while the temperature is above its normal level
    MISSING = "missing"  # only a rise counts


@dataclass(frozen=True, slots=True)
class FeatureParams:
    level_tau_s: float = 6.0  # ~ a 12-sample moving window at 1 Hz, with O(1) state
    rate_tau_s: float = 60.0  # rate = (fast - slow level) / (slow tau - fast tau)
    missing_tau_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    kind: Kind
    channels: tuple[int, ...]  # its deviation is shared among these for "top channels"; () = the missing ones
    floor: float  # smallest scale, relative to the baseline level (LEVEL, SPREAD) or absolute (RATE, MISSING)


def _layout() -> tuple[Feature, ...]:
    # Scale floors: vibration readings wander by a few %; supply voltage matters only by several %; motor
    # current changes with winding temperature by ~1 %.
    rel_floor = {VIB_DE: 0.025, VIB_NDE: 0.025, VOLTAGE: 0.03, CURRENT: 0.005}
    feats = [Feature(f"{CHANNELS[c]}.level", Kind.LEVEL, (c,), rel_floor.get(c, 0.002)) for c in FAST]
    # Supply voltage ripple says nothing about the pump: no spread feature for it.
    feats += [Feature(f"{CHANNELS[c]}.spread", Kind.SPREAD, (c,), SPREAD_FLOOR) for c in FAST if c != VOLTAGE]
    feats.append(Feature("current_per_flow", Kind.LEVEL, (CURRENT, FLOW), 0.005))
    feats += [Feature(f"{CHANNELS[c]}.rate", Kind.RATE, (c,), 0.15) for c in SLOW]  # degC per minute
    feats.append(Feature("missing", Kind.MISSING, (), 0.05))
    return tuple(feats)


FEATURES = _layout()
N_FEATURES = len(FEATURES)
_FAST = np.array(FAST)
_SLOW = np.array(SLOW)
_K = len(FAST)
_I_CUR, _I_FLOW = FAST.index(CURRENT), FAST.index(FLOW)
_SPREAD_OF = np.array([i for i, c in enumerate(FAST) if c != VOLTAGE])


class FeatureExtractor:
    """Per-asset feature state. ``update`` returns the feature vector (float64, N_FEATURES) for each sample."""

    def __init__(self, params: FeatureParams | None = None) -> None:
        self.p = params or FeatureParams()
        n = len(CHANNELS)
        self._held = np.full(n, np.nan)  # last good value per channel: a dropout holds it
        self._level = np.full(_K, np.nan)
        self._var = np.zeros(_K)
        self.slow_level = np.full(len(SLOW), np.nan)  # smoothed temperatures, for gating their rates
        self._slow_lag = np.full(len(SLOW), np.nan)
        self._missing = np.zeros(n)
        self._v_ref = math.nan  # the supply voltage current is corrected to: the median of the first few readings
        self._v_first: list[float] = []
        self._last_ts: float | None = None
        self.out = np.zeros(N_FEATURES)

    def update(self, ts: float, values: np.ndarray, flagged: np.ndarray | None = None) -> np.ndarray:
        """``flagged``: channels the source itself reported not good (bad, stale, comm-fail). They hold their
        last value like any gap, but do not count as missing: the engine raises a diagnostic alarm for them,
        and an instrument the plant already knows is faulty is not a process anomaly."""
        dt = 1.0 if self._last_ts is None else max(ts - self._last_ts, 1e-6)
        self._last_ts = ts
        good = ~np.isnan(values)
        self._held = np.where(good, values, self._held)
        missing = ~good if flagged is None else ~good & ~flagged
        self._missing += (1.0 - math.exp(-dt / self.p.missing_tau_s)) * (missing.astype(float) - self._missing)
        x = self._held

        a = 1.0 - math.exp(-dt / self.p.level_tau_s)
        xf = x[_FAST]
        # Motor current at a fixed supply voltage: for the same shaft load, current moves inversely with the
        # supply (plants see several % of supply swing), which is not the pump's doing.
        v = float(x[VOLTAGE])
        if np.isnan(self._v_ref) and good[VOLTAGE] and v > 0:
            self._v_first.append(v)
            if len(self._v_first) == V_REF_SAMPLES:
                self._v_ref = float(np.median(self._v_first))
        if V_RATIO_PLAUSIBLE[0] < v / self._v_ref < V_RATIO_PLAUSIBLE[1]:  # False while v_ref is unknown (NaN)
            xf[_I_CUR] *= v / self._v_ref
        level = np.where(np.isnan(self._level), xf, self._level)
        dev = xf - level
        self._level = np.where(np.isnan(level), xf, level + a * dev)
        self._var += a * (np.nan_to_num(dev * dev) - self._var)

        xs = x[_SLOW]
        fast = np.where(np.isnan(self.slow_level), xs, self.slow_level + a * (xs - self.slow_level))
        a_lag = 1.0 - math.exp(-dt / self.p.rate_tau_s)
        lag = np.where(np.isnan(self._slow_lag), xs, self._slow_lag + a_lag * (xs - self._slow_lag))
        self.slow_level, self._slow_lag = fast, lag

        out = self.out
        out[:_K] = self._level
        out[_K:2 * _K - 1] = np.sqrt(self._var[_SPREAD_OF])
        q = self._level[_I_FLOW]
        out[2 * _K - 1] = self._level[_I_CUR] / (q if abs(q) > 1e-3 else 1e-3)
        out[2 * _K:2 * _K + 2] = (fast - lag) / (self.p.rate_tau_s - self.p.level_tau_s) * 60.0
        out[-1] = float(self._missing.max())
        return out

    def missing_share(self) -> np.ndarray:
        """Per channel share of the missing-value feature (to attribute it to channels)."""
        total = self._missing.sum()
        return self._missing / total if total > 0 else np.zeros_like(self._missing)
