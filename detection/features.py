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
from enum import StrEnum

import numpy as np

from acquisition.channels import CHANNELS, CURRENT, FLOW, FLUID_TEMP, MOTOR_TEMP, PRESSURE, VIB_DE, VIB_NDE, VOLTAGE
from detection.timing import DEFAULT_PERIOD_S, Span, ewma_weight

V_REF_SAMPLES = 5
V_RATIO_PLAUSIBLE = (0.5, 2.0)  # a supply further off than this is not corrected for (an outage, a bad reading)
SPREAD_FLOOR = 0.25  # a short-window spread estimate itself varies by ~this much
FAST = (VIB_DE, VIB_NDE, CURRENT, PRESSURE, VOLTAGE, FLOW)
SLOW = (MOTOR_TEMP, FLUID_TEMP)


class Kind(StrEnum):
    """How a feature's deviation is judged (see detection.model)."""

    LEVEL = "level"  # two-sided, against a slowly tracking reference
    SPREAD = "spread"  # only a rise counts, and a collapse to a flat line
    RATE = "rate"  # only a rise counts, and only while the temperature is above its normal level
    MISSING = "missing"  # only a rise counts


@dataclass(frozen=True, slots=True)
class FeatureParams:
    level_tau: Span = Span(6.0, 3)  # ~ a 12-sample moving window at 1 Hz, with O(1) state
    spread_tau: Span = Span(6.0, 6)  # a spread needs more samples than a level to be steady (chi-square tails)
    rate_tau: Span = Span(60.0, 10)  # rate = (fast - slow level) / (slow tau - fast tau)
    missing_tau: Span = Span(30.0, 3)
    warm: Span = Span(12.0, 6)  # after a restart, levels and spreads are running means until this is over
    huber: float = 4.0  # once warm, a sample moves a level by at most this many spreads (its variance 16x)...
    huber_floor: float = 0.02  # ...or this fraction of the level (a channel that sat still can still move)


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    kind: Kind
    channels: tuple[int, ...]  # its deviation is shared among these for "top channels"; () = the missing ones
    floor: float  # smallest scale, relative to the baseline level (LEVEL, SPREAD) or absolute (RATE, MISSING)


def _zero_nan(x: np.ndarray) -> np.ndarray:
    """NaN -> 0 (np.nan_to_num also maps infinities, which costs ~6 us a call; these arrays hold none)."""
    return np.where(np.isnan(x), 0.0, x)


def _layout() -> tuple[Feature, ...]:
    # Scale floors: vibration readings wander by a few %; supply voltage matters only by several %; motor
    # current changes with winding temperature and the supply (its magnetising part does not scale inversely with
    # voltage, so the correction below leaves some) by ~1 %, and so does current per flow.
    rel_floor = {VIB_DE: 0.025, VIB_NDE: 0.025, VOLTAGE: 0.03, CURRENT: 0.01}
    feats = [Feature(f"{CHANNELS[c]}.level", Kind.LEVEL, (c,), rel_floor.get(c, 0.002)) for c in FAST]
    # Supply voltage ripple says nothing about the pump: no spread feature for it.
    feats += [Feature(f"{CHANNELS[c]}.spread", Kind.SPREAD, (c,), SPREAD_FLOOR) for c in FAST if c != VOLTAGE]
    feats.append(Feature("current_per_flow", Kind.LEVEL, (CURRENT, FLOW), 0.01))
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

    def __init__(self, params: FeatureParams | None = None, period_s: float = DEFAULT_PERIOD_S) -> None:
        self.p = params or FeatureParams()
        n = len(CHANNELS)
        self._n = 0  # samples since the last restart
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
        self.retime(period_s)

    def retime(self, period_s: float) -> None:
        """Re-derive the time constants for samples ``period_s`` apart (see detection.timing)."""
        p = self.p
        self._level_tau, self._spread_tau, self._rate_tau, self._missing_tau = (
            t.at(period_s) for t in (p.level_tau, p.spread_tau, p.rate_tau, p.missing_tau))
        self._rate_tau = max(self._rate_tau, 2.0 * self._level_tau)  # the rate needs a lag slower than the level
        self._warm_n = p.warm.count(period_s)

    def restart(self) -> None:
        """Forget levels and spreads: the pump is starting or changing speed, and what it did before says
        nothing about its new steady state (else a step would inflate the spread for ten time constants).
        Temperatures (slow, gated) and the missing-value fraction carry on."""
        self._n = 0
        self._level[:] = np.nan
        self._var[:] = 0.0

    @property
    def warm(self) -> bool:
        """Enough samples since the last restart for levels and spreads to mean something."""
        return self._n >= self._warm_n

    def update(self, ts: float, values: np.ndarray, flagged: np.ndarray | None = None) -> np.ndarray:
        """``flagged``: channels the source itself reported not good (bad, stale, comm-fail). They hold their
        last value like any gap, but do not count as missing: the engine raises a diagnostic alarm for them,
        and an instrument the plant already knows is faulty is not a process anomaly."""
        dt = 1.0 if self._last_ts is None else max(ts - self._last_ts, 1e-6)
        self._last_ts = ts
        good = ~np.isnan(values)
        self._held = np.where(good, values, self._held)
        missing = ~good if flagged is None else ~good & ~flagged
        self._missing += ewma_weight(dt, self._missing_tau) * (missing.astype(float) - self._missing)
        x = self._held

        a = ewma_weight(dt, self._level_tau)
        self._n += 1
        warm = self._n > self._warm_n
        a_fit = a if warm else max(a, 1.0 / self._n)  # a running mean while warming up
        a_var = ewma_weight(dt, self._spread_tau)
        a_var = a_var if warm else max(a_var, 1.0 / self._n)
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
        dev = _zero_nan(xf - level)
        dev2 = dev * dev
        if warm:  # Huber: a lone wild sample moves neither far; a real change gets there in a few samples
            lim2 = np.maximum(self.p.huber ** 2 * self._var, (self.p.huber_floor * level) ** 2)
            big = dev2 > lim2
            if big.any():
                dev = np.where(big, np.sign(dev) * np.sqrt(lim2), dev)
                dev2 = np.minimum(dev2, lim2)
        self._level = np.where(np.isnan(level), xf, level + a_fit * dev)
        self._var += a_var * (dev2 - self._var)

        xs = x[_SLOW]
        fast = np.where(np.isnan(self.slow_level), xs, self.slow_level + a * (xs - self.slow_level))
        a_lag = ewma_weight(dt, self._rate_tau)
        lag = np.where(np.isnan(self._slow_lag), xs, self._slow_lag + a_lag * (xs - self._slow_lag))
        self.slow_level, self._slow_lag = fast, lag

        out = self.out
        out[:_K] = self._level
        out[_K:2 * _K - 1] = np.sqrt(self._var[_SPREAD_OF])
        q = self._level[_I_FLOW]
        out[2 * _K - 1] = self._level[_I_CUR] / (q if abs(q) > 1e-3 else 1e-3)
        out[2 * _K:2 * _K + 2] = (fast - lag) / (self._rate_tau - self._level_tau) * 60.0
        out[-1] = float(self._missing.max())
        return out

    def missing_share(self) -> np.ndarray:
        """Per channel share of the missing-value feature (to attribute it to channels)."""
        total = self._missing.sum()
        return self._missing / total if total > 0 else np.zeros_like(self._missing)
