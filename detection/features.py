"""Streaming, causal features of one pump: each value at time t uses only samples up to t.

Per fast channel (vibrations, current, pressure, voltage, flow): a smoothed level and a smoothed spread (EWMA
of the squared deviation), so that both shifts and changes in noise (cavitation roughness, a stuck sensor's
flat line) show. Hydraulic ratios tie channels together as physics does: pressure per flow (the system curve a
closing valve moves) and current per flow (what the motor pays per unit delivered). Slow temperatures enter
only through their rate of change: their level wanders with load and weather. A missing-value fraction makes
a sensor that drops out visible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acquisition.channels import CURRENT, FLOW, FLUID_TEMP, MOTOR_TEMP, PRESSURE, VIB_DE, VIB_NDE, VOLTAGE, CHANNELS

FAST = (VIB_DE, VIB_NDE, CURRENT, PRESSURE, VOLTAGE, FLOW)
SLOW = (MOTOR_TEMP, FLUID_TEMP)


@dataclass(frozen=True, slots=True)
class FeatureParams:
    level_tau_s: float = 10.0
    spread_tau_s: float = 30.0
    rate_tau_s: float = 60.0
    missing_tau_s: float = 30.0


def feature_layout() -> tuple[tuple[str, ...], np.ndarray]:
    """Feature names and, for each feature, the channel it is attributed to (for 'top channels')."""
    names: list[str] = []
    owner: list[int] = []
    for c in FAST:
        names.append(f"{CHANNELS[c]}.level")
        owner.append(c)
    for c in FAST:
        names.append(f"{CHANNELS[c]}.spread")
        owner.append(c)
    names += ["pressure_per_flow", "current_per_flow"]
    owner += [PRESSURE, CURRENT]
    for c in SLOW:
        names.append(f"{CHANNELS[c]}.rate")
        owner.append(c)
    names.append("missing")
    owner.append(-1)  # spread over the channels that are missing, see FeatureExtractor.missing_share
    return tuple(names), np.array(owner)


FEATURE_NAMES, FEATURE_OWNER = feature_layout()
N_FEATURES = len(FEATURE_NAMES)
_FAST = np.array(FAST)
_SLOW = np.array(SLOW)


class FeatureExtractor:
    """Per-asset feature state. ``update`` returns a new feature vector (float64, N_FEATURES) per sample."""

    def __init__(self, params: FeatureParams | None = None) -> None:
        self.p = params or FeatureParams()
        n = len(CHANNELS)
        self._held = np.full(n, np.nan)  # last good value per channel (a dropout holds it)
        self._level = np.full(len(FAST), np.nan)
        self._var = np.zeros(len(FAST))
        self._slow_level = np.full(len(SLOW), np.nan)
        self._slow_rate = np.zeros(len(SLOW))
        self._missing = np.zeros(n)
        self._last_ts: float | None = None
        self.out = np.zeros(N_FEATURES)

    def update(self, ts: float, values: np.ndarray) -> np.ndarray:
        dt = 1.0 if self._last_ts is None else max(ts - self._last_ts, 1e-6)
        self._last_ts = ts
        good = ~np.isnan(values)
        self._held = np.where(good, values, self._held)
        x = self._held

        a_m = 1.0 - math.exp(-dt / self.p.missing_tau_s)
        self._missing += a_m * ((~good).astype(float) - self._missing)

        xf = x[_FAST]
        first = np.isnan(self._level)
        self._level = np.where(first, xf, self._level)
        a_l = 1.0 - math.exp(-dt / self.p.level_tau_s)
        a_s = 1.0 - math.exp(-dt / self.p.spread_tau_s)
        dev = xf - self._level
        self._level += a_l * dev
        self._var += a_s * (dev * dev - self._var)
        self._level = np.where(np.isnan(self._level), xf, self._level)

        xs = x[_SLOW]
        a_r = 1.0 - math.exp(-dt / self.p.rate_tau_s)
        prev = self._slow_level
        new = np.where(np.isnan(prev), xs, prev + a_r * (xs - prev))
        rate = np.where(np.isnan(prev), 0.0, (new - prev) / dt * 60.0)  # per minute
        self._slow_rate += a_r * (np.nan_to_num(rate) - self._slow_rate)
        self._slow_level = new

        k = len(FAST)
        out = self.out
        out[:k] = self._level
        out[k:2 * k] = np.sqrt(self._var)
        q = self._level[FAST.index(FLOW)]
        q_safe = q if abs(q) > 1e-9 else 1e-9
        out[2 * k] = self._level[FAST.index(PRESSURE)] / q_safe
        out[2 * k + 1] = self._level[FAST.index(CURRENT)] / q_safe
        out[2 * k + 2:2 * k + 4] = self._slow_rate
        out[-1] = float(self._missing.max())
        return out

    def missing_share(self) -> np.ndarray:
        """Per channel share of the missing-value feature (for attributing it to channels)."""
        total = self._missing.sum()
        return self._missing / total if total > 0 else np.zeros_like(self._missing)
