"""What "normal" looks like for one asset, and how far a sample is from it.

Normalisation is per operating state (the pump at 70 % speed is not the pump at 100 %): a robust centre and
scale of every feature over that state's baseline. Deviations are judged by kind (see detection.features):
levels two-sided against a reference that tracks slow drift (a fault is absorbed at most ~2 scale units per
``track_tau``), spreads, rates and missing values one-sided.

The anomaly score fuses three views of the same deviations, each mapped so that 1.0 sits at the edge of normal:
the Isolation Forest (multivariate: several features off together) and the largest single deviation. The forest
alone cannot see a fault that moves one feature far: a point beyond the baseline on one axis isolates no faster
than the baseline's own extreme points (measured on SKAB valve1: F1 0.01 alone, 0.87 fused). The third view is
the persistent-shift average of the level deviations (detection.shift): small shifts that hold. The first two are
calibrated out-of-fold on the baseline (contiguous blocks scored by a model that did not see them), because
in-sample scores are optimistic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acquisition.channels import N_CHANNELS, VOLTAGE
from detection.features import FEATURES, Kind, _zero_nan
from detection.forest import CompiledForest, fit_forest
from detection.shift import ShiftCalibration, ShiftWatch
from detection.timing import Span

Z_CLIP = 50.0
TAIL_RATIO = 2.0  # see _calibration
FLAT_FRACTION = 0.01  # a spread below 1 % of its normal value is a flat line (a stuck sensor)
FLAT_Z = 10.0


def _features_of(kind: Kind) -> np.ndarray:
    """A mask over FEATURES: True where the feature is of this kind."""
    return np.array([f.kind is kind for f in FEATURES])


_LEVEL = _features_of(Kind.LEVEL)
# The levels the persistent-shift view watches: all but the supply voltage's (it wanders with the grid by more
# than a short baseline shows, and it is not the pump's doing; current is corrected for it).
SHIFTED = np.array([i for i in np.flatnonzero(_LEVEL) if FEATURES[i].channels != (VOLTAGE,)])
_SPREAD = _features_of(Kind.SPREAD)
_RATE = _features_of(Kind.RATE)
_ONE_SIDED = ~_LEVEL
_RELATIVE_FLOOR = _LEVEL | _SPREAD
_FLOOR = np.array([f.floor for f in FEATURES])
# share[i, c]: the part of feature i's deviation that channel c is blamed for
_SHARE = np.zeros((len(FEATURES), N_CHANNELS))
for _i, _f in enumerate(FEATURES):
    _SHARE[_i, list(_f.channels)] = 1.0 / max(len(_f.channels), 1)
_MISSING = int(np.flatnonzero(_features_of(Kind.MISSING))[0])


@dataclass(frozen=True, slots=True)
class ModelParams:
    n_estimators: int = 100
    max_samples: int = 256
    seed: int = 0
    folds: int = 4
    calibration_quantile: float = 0.99
    track_tau: Span = Span(600.0, 120)  # the level reference follows drift with this time constant...
    track_clip: float = 2.0  # ...by at most this many scale units per time constant,
    track_gate: float = 4.0  # ...and not at all from a level further off than this (a fault, not drift)
    reanchor_clip: float = 4.0
    # The persistent-shift average (detection.shift): a quarter of track_tau, so a held shift of d scale units
    # lifts it to ~0.63 d before the reference has followed (at half, ~0.5 d).
    shift_tau: Span = Span(150.0, 30)
    shift_edge: float = 4.0  # its edge of normal, in SDs of the average


@dataclass(frozen=True, slots=True)
class StateNorm:
    """Centre and scale of every feature in one operating state, keyed by its motor current level."""

    current_level: float
    centre: np.ndarray
    scale: np.ndarray
    slow_centre: np.ndarray  # normal smoothed temperatures: their rates count only above these

    @classmethod
    def fit(cls, features: np.ndarray, slow_levels: np.ndarray, current_level: float) -> StateNorm:
        centre = np.median(features, axis=0)
        mad = np.median(np.abs(features - centre), axis=0) * 1.4826
        # Not the SD: one wild row would widen it for as long as the state is known. The central 95 % range
        # (/ 3.92: 1 SD for normal data) also sees spread in features whose MAD is 0 (mostly-zero ones).
        lo, hi = np.quantile(features, [0.025, 0.975], axis=0)
        scale = np.maximum(mad, 0.5 * (hi - lo) / 3.92)
        floor = np.where(_RELATIVE_FLOOR, _FLOOR * np.abs(centre), _FLOOR)
        return cls(current_level, centre, np.maximum(np.maximum(scale, floor), 1e-9), np.median(slow_levels, axis=0))

    def deviations(self, f: np.ndarray, ref: np.ndarray, slow_level: np.ndarray) -> np.ndarray:
        """Signed, kind-aware deviations (in scale units) of one feature vector from ``ref``."""
        z = (f - ref) / self.scale
        z[_ONE_SIDED] = np.maximum(z[_ONE_SIDED], 0.0)
        z[_SPREAD] = np.where(f[_SPREAD] < FLAT_FRACTION * self.centre[_SPREAD], FLAT_Z, z[_SPREAD])
        z[_RATE] = np.where(slow_level >= self.slow_centre, z[_RATE], 0.0)
        clipped: np.ndarray = np.clip(_zero_nan(z), -Z_CLIP, Z_CLIP)
        return clipped

    def anchor(self, f: np.ndarray, params: ModelParams) -> np.ndarray:
        """A reference for re-entering this state: levels drift while a pump runs elsewhere (supply, weather,
        wear), so they restart from where they are now, but never by more than ``reanchor_clip`` scale units:
        a larger shift is a change the operator must see."""
        ref = self.centre.copy()
        shift = np.clip(np.nan_to_num((f - self.centre) / self.scale), -params.reanchor_clip, params.reanchor_clip)
        ref[_LEVEL] += shift[_LEVEL] * self.scale[_LEVEL]
        return ref

    def track(self, ref: np.ndarray, z: np.ndarray, dt: float, tau_s: float, params: ModelParams) -> None:
        """Let the level reference follow slow drift; clipping bounds how fast a fault can be absorbed."""
        step = min(dt / tau_s, 1.0)
        zl = z[_LEVEL]
        zl = np.where(np.abs(zl) <= params.track_gate, np.clip(zl, -params.track_clip, params.track_clip), 0.0)
        ref[_LEVEL] += step * self.scale[_LEVEL] * zl


class AnomalyModel:
    """The fitted detector of one asset: a compiled forest and the calibration of both score views."""

    def __init__(self, forest: CompiledForest, if_cal: tuple[float, float], z_cal: tuple[float, float],
                 shift: ShiftCalibration | None = None, params: ModelParams | None = None) -> None:
        self.forest = forest
        self.params = params or ModelParams()
        self._if_cal = if_cal
        self._z_cal = z_cal
        self.shift = shift
        self.last_views = (0.0, 0.0, 0.0)  # (forest, largest deviation, shift) of the last score, for diagnostics

    @classmethod
    def fit(cls, pool: np.ndarray, params: ModelParams, period_s: float = 1.0) -> AnomalyModel:
        """Fit on honest deviations (see :func:`honest_deviations`) pooled over the states learnt so far, in time
        order within each state, sampled every ``period_s``."""
        # Our own numpy fitter, not sklearn's: importing sklearn (+ scipy) would add ~185 MB to the app and stall
        # the GUI, and its fit takes ~0.5 s per forest instead of ~20 ms.
        def forest_on(z: np.ndarray) -> CompiledForest:
            return fit_forest(z, n_estimators=params.n_estimators, max_samples=params.max_samples, seed=params.seed)

        oof_if = np.empty(len(pool))
        for held in np.array_split(np.arange(len(pool)), params.folds):
            oof_if[held] = -forest_on(np.delete(pool, held, axis=0)).score_samples(pool[held])
        oof_z = np.abs(pool).max(axis=1)
        return cls(forest_on(pool), _calibration(oof_if, params), _calibration(oof_z, params),
                   ShiftCalibration.fit(pool[:, SHIFTED], period_s), params)

    def score(self, z: np.ndarray, shift: ShiftWatch | None = None, dt: float = 0.0, shift_tau: float = 1.0,
              widen: float = 1.0) -> float:
        """Fused anomaly score: about 0 for typical normal, 1.0 at the edge of normal. ``shift``: the asset's
        persistent-shift averages (detection.shift), fed the level deviations here: clipped at the tracking
        gate (beyond it a level is a fault for the largest-deviation view) and restarted beyond twice that;
        ``widen``: their limit's factor for the uncertainty of the reference they are measured against."""
        s_if = (-self.forest.score_one(z) - self._if_cal[0]) / self._if_cal[1]
        s_z = (float(np.abs(z).max()) - self._z_cal[0]) / self._z_cal[1]
        s_shift = 0.0
        if shift is not None:
            gate = self.params.track_gate
            s_shift = shift.update(z[SHIFTED], dt, shift_tau, gate, 2.0 * gate) / widen
        self.last_views = (s_if, s_z, s_shift)
        return max(0.0, s_if, s_z, s_shift)


def honest_deviations(features: np.ndarray, slow: np.ndarray, params: ModelParams) -> np.ndarray:
    """Deviations of a state's baseline rows, each block normalised by a fit on the other blocks: what normal data
    the model has not seen looks like after normalisation (in-sample deviations are optimistically small)."""
    out = np.empty_like(features)
    for held in np.array_split(np.arange(len(features)), params.folds):
        norm = StateNorm.fit(np.delete(features, held, axis=0), np.delete(slow, held, axis=0), 0.0)
        out[held] = [norm.deviations(f, norm.centre, sl) for f, sl in zip(features[held], slow[held], strict=True)]
    return out


def _calibration(oof: np.ndarray, params: ModelParams) -> tuple[float, float]:
    """(centre, scale) so that (score - centre) / scale is 1.0 at the edge of normal: the 99th percentile of the
    out-of-fold scores, but not below twice the 90th percentile's distance from the median. A baseline of a
    hundred-odd samples (two hours at one a minute) holds one or two scores beyond its 99th percentile, so that
    estimate alone is mostly luck; the 90th rests on ten times as many, and twice its distance is where the 99th
    sits for normal or exponential tails (x1.8, x2.0)."""
    centre = float(np.median(oof))
    q90, q99 = np.quantile(oof, [0.9, params.calibration_quantile])
    return centre, max(float(q99) - centre, TAIL_RATIO * (float(q90) - centre), 1e-9)


def contributions(z: np.ndarray, missing_share: np.ndarray) -> np.ndarray:
    """How much each channel drives the current deviation (|z| shared among each feature's channels)."""
    mag = np.abs(z)
    per_channel: np.ndarray = mag @ _SHARE + mag[_MISSING] * missing_share
    return per_channel
