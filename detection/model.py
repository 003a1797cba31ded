"""What "normal" looks like for one asset: per-state normalisation plus an Isolation Forest, with a calibrated
score scale.

Normalisation is per operating state (the pump at 70 % speed is not the pump at 100 %): robust centre and scale
of each feature over that state's baseline. The forest is fitted once, at commissioning, on normalised
features, so it transfers to states learnt later. The raw forest score is mapped so that 1.0 sits at the edge
of normal: calibrated out-of-fold (contiguous blocks of the baseline are scored by a forest that did not see
them), because in-sample Isolation Forest scores are optimistic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest

from detection.features import FEATURE_NAMES, FEATURE_OWNER
from detection.forest import CompiledForest

Z_CLIP = 50.0
_MISSING = FEATURE_NAMES.index("missing")


@dataclass(frozen=True, slots=True)
class ModelParams:
    n_estimators: int = 100
    max_samples: int = 256
    seed: int = 0
    folds: int = 4
    calibration_quantile: float = 0.995
    calibration_margin: float = 1.15


@dataclass(frozen=True, slots=True)
class StateNorm:
    """Centre and scale of every feature in one operating state, keyed by its motor current level."""

    current_level: float
    centre: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, current_level: float) -> "StateNorm":
        centre = np.median(features, axis=0)
        mad = np.median(np.abs(features - centre), axis=0) * 1.4826
        sd = features.std(axis=0)
        # A feature that hardly moves in the baseline still needs a finite scale; floors say "what change matters".
        floor = np.maximum(0.005 * np.abs(centre), 1e-6)
        floor[_MISSING] = 0.05
        scale = np.maximum(np.maximum(mad, 0.5 * sd), floor)
        return cls(current_level, centre, scale)

    def z(self, features: np.ndarray) -> np.ndarray:
        return np.clip((features - self.centre) / self.scale, -Z_CLIP, Z_CLIP)


class AnomalyModel:
    """The fitted detector of one asset: a compiled forest and its score calibration."""

    def __init__(self, forest: CompiledForest, offset: float, unit: float) -> None:
        self.forest = forest
        self._offset = offset
        self._unit = unit

    @classmethod
    def fit(cls, z: np.ndarray, params: ModelParams) -> "AnomalyModel":
        def forest_on(rows: np.ndarray) -> CompiledForest:
            iforest = IsolationForest(
                n_estimators=params.n_estimators, max_samples=min(params.max_samples, len(rows)),
                random_state=params.seed,
            ).fit(rows)
            return CompiledForest.from_sklearn(iforest)

        oof = np.empty(len(z))
        blocks = np.array_split(np.arange(len(z)), params.folds)
        for held in blocks:
            train = np.setdiff1d(np.arange(len(z)), held)
            oof[held] = -forest_on(z[train]).score_samples(z[held])
        offset = float(np.median(oof))
        edge = float(np.quantile(oof, params.calibration_quantile)) * params.calibration_margin
        return cls(forest_on(z), offset, max(edge - offset, 1e-6))

    def score(self, z: np.ndarray) -> float:
        """Normalised anomaly score: about 0 for typical normal, 1.0 at the edge of normal."""
        raw = -self.forest.score_one(z)
        return max(0.0, (raw - self._offset) / self._unit)


def contributions(z: np.ndarray, missing_share: np.ndarray, n_channels: int) -> np.ndarray:
    """How much each channel drives the current deviation: |z| attributed to the channel each feature belongs to."""
    out = np.zeros(n_channels)
    mag = np.abs(z)
    owned = FEATURE_OWNER >= 0
    np.add.at(out, FEATURE_OWNER[owned], mag[owned])
    out += mag[_MISSING] * missing_share
    return out
