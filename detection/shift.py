"""Small persistent shifts: an EWMA control chart on the normalised level deviations.

A leak that lowers flow by 2-3 % and holds moves the flow level by a couple of its own scale units: never past
the edge of normal sample by sample, but for good. Averaged over ``tau`` the deviation's noise shrinks and the
shift does not, so the average crosses a limit the samples never reach. The limit comes from the baseline: the
spread of each level's deviations and how long they stay correlated (their integrated autocorrelation time),
which give the spread of the average for any ``tau`` and sampling period (an EWMA of a process with correlation
time T keeps a fraction T / (T + tau) of its variance). Slow drift is still followed by the level reference
(detection.model.StateNorm.track, slower than ``tau``); a shift is what moves faster than the reference does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.timing import ewma_weight

MAX_LAG = 64  # autocorrelation is summed up to this lag (or until it first falls below ACF_FLOOR)
ACF_FLOOR = 0.05
MIN_SD = 0.25  # scale units: the limit (edge x SD) is never below one scale unit, which the feature floors
# (detection.features) set at the size of legitimate slow variation (supply, winding temperature)


@dataclass(frozen=True, slots=True)
class ShiftCalibration:
    """Per level feature: the spread of its baseline deviations and their correlation time in seconds."""

    sd: np.ndarray
    corr_s: np.ndarray

    @classmethod
    def fit(cls, z_levels: np.ndarray, period_s: float) -> ShiftCalibration:
        """From time-ordered baseline deviations (rows = samples ``period_s`` apart) of the level features."""
        centred = z_levels - np.median(z_levels, axis=0)
        # Robust spread, but never below the SD of the central 95 % (deviations that sit mostly at 0).
        lo, hi = np.quantile(z_levels, [0.025, 0.975], axis=0)
        sd = np.maximum(1.4826 * np.median(np.abs(centred), axis=0), (hi - lo) / 3.92)
        return cls(np.maximum(sd, 1e-6), _correlation_samples(centred) * period_s)

    def sd_of_average(self, tau_s: float, period_s: float) -> np.ndarray:
        """The spread of an EWMA (time constant ``tau_s``) of the deviations sampled every ``period_s``."""
        a = ewma_weight(period_s, tau_s)
        white = a / (2.0 - a)  # the fraction of variance an EWMA keeps of uncorrelated samples
        corr = np.maximum(self.corr_s / period_s, 0.5)  # integrated correlation time, in samples
        sd: np.ndarray = np.maximum(self.sd * np.sqrt(np.minimum(1.0, 2.0 * corr * white)), MIN_SD)
        return sd


def _correlation_samples(x: np.ndarray) -> np.ndarray:
    """Integrated autocorrelation time in samples, per column: 1/2 + the sum of the autocorrelation over lags
    until it first drops below ACF_FLOOR (the initial positive sequence; at least 1/2: white noise)."""
    n = len(x)
    var = (x * x).mean(axis=0)
    out = np.full(x.shape[1], 0.5)
    live = var > 0
    for lag in range(1, min(MAX_LAG, n // 4) + 1):
        rho = (x[lag:] * x[:-lag]).mean(axis=0) / np.where(var > 0, var, 1.0)
        live &= rho >= ACF_FLOOR
        if not live.any():
            break
        out += np.where(live, rho, 0.0)
    return out


class ShiftWatch:
    """One asset's running averages of its level deviations; ``score`` is 1.0 at ``edge`` of their spread."""

    def __init__(self, n_levels: int, edge: float) -> None:
        self.m = np.zeros(n_levels)
        self.edge = edge
        self._limit: np.ndarray | None = None

    def reset(self) -> None:
        """Entering a state or resuming after a pause: the averages start again from nothing."""
        self.m[:] = 0.0

    def calibrate(self, cal: ShiftCalibration | None, tau_s: float, period_s: float) -> None:
        self._limit = None if cal is None else self.edge * cal.sd_of_average(tau_s, period_s)

    def update(self, z_levels: np.ndarray, dt: float, tau_s: float, clip: float, reset: float) -> float:
        """Average one sample's level deviations in. Deviations are clipped at ``clip`` (a small shift is what this
        view is for) and a level further off than ``reset`` restarts its average: that is a fault in plain view,
        which the other views carry, and an average that took it in would hold the alarm for a time constant
        after the fault ended."""
        self.m += ewma_weight(dt, tau_s) * (np.clip(z_levels, -clip, clip) - self.m)
        self.m[np.abs(z_levels) > reset] = 0.0
        if self._limit is None:
            return 0.0
        return float(np.max(np.abs(self.m) / self._limit))

