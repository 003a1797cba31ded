"""One asset's whole detection pipeline, sample by sample: regime -> features -> normalisation -> forest ->
alert rule. The engine runs it live; ``detection.offline`` runs the very same object over a DataFrame.

Commissioning: the first ``baseline_s`` of steady running data define normal (the normalisation of that
operating state and the forest). A later operating state the pump has not been seen in (a new set-point) is
learnt the same way, for its normalisation only, while its alarms are held off; a known state is recognised by
its motor current and reused at once.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field

import logging

import numpy as np

from detection.alerts import AlertParams, AlertRule, AlertTransition
from detection.features import FeatureExtractor, FeatureParams
from detection.features import FEATURES, N_FEATURES
from acquisition.channels import N_CHANNELS
from detection.model import AnomalyModel, ModelParams, StateNorm, contributions, honest_deviations
from detection.plausibility import GateParams, PlausibilityGate
from detection.regime import Regime, RegimeParams, RegimeTracker


log = logging.getLogger(__name__)

POOL_MAX = 4096  # baseline rows kept for refitting (about an hour at 1 Hz)
# _USES[i, c]: feature i is computed from channel c. A channel its source flagged not good (held at its last value)
# must not drive any feature built on it: a held value is a flat line and a frozen level, not the process.
_USES = np.array([[c in f.channels for c in range(N_CHANNELS)] for f in FEATURES])
ADOPT_AFTER_S = 5.0  # a model fitted off-thread takes effect this much data time after its learning window


@dataclass(frozen=True, slots=True)
class PipelineParams:
    baseline_s: float = 300.0
    warmup_s: float = 120.0  # the first part of a learning window primes the smoothers and is not fitted
    state_tolerance: float = 0.15  # relative motor-current distance within which a known state is reused
    gate: GateParams = field(default_factory=GateParams)
    regime: RegimeParams = field(default_factory=RegimeParams)
    features: FeatureParams = field(default_factory=FeatureParams)
    model: ModelParams = field(default_factory=ModelParams)
    alerts: AlertParams = field(default_factory=AlertParams)

    @classmethod
    def from_settings(cls, d) -> "PipelineParams":  # noqa: ANN001 - app.config.DetectionSettings (no import: layering)
        return cls(
            baseline_s=d.baseline_s,
            regime=RegimeParams(settle_s=d.settle_s),
            model=ModelParams(n_estimators=d.n_estimators, max_samples=d.max_samples, seed=d.seed),
            alerts=AlertParams(threshold=d.threshold, clear_ratio=d.clear_ratio, min_duration_s=d.min_duration_s,
                               dedup_window_s=d.dedup_window_s, top_channels=d.top_channels),
        )


@dataclass(frozen=True, slots=True)
class Scored:
    regime: Regime
    regime_changed: bool
    score: float | None  # None while not scoring: stopped, settling, commissioning or learning a state
    transition: AlertTransition | None
    commissioned: bool = False  # this sample completed commissioning


# Runs a model fit somewhere else and hands back its future (the engine: a worker thread, so a fit never
# holds up the detection thread and every other pump's alarms). None = fit in line (offline runs, tests).
Fitter = Callable[[Callable[[], AnomalyModel]], Future]


class AssetPipeline:
    def __init__(self, params: PipelineParams | None = None, fitter: Fitter | None = None) -> None:
        self.p = params or PipelineParams()
        self._fitter = fitter
        self._pending: Future | None = None  # a refit under way; the previous model scores meanwhile
        self.fit_error: BaseException | None = None
        self._adopt_at = 0.0
        self.gate = PlausibilityGate(self.p.gate)
        self.regime = RegimeTracker(self.p.regime)
        self.features = FeatureExtractor(self.p.features)
        self.alerts = AlertRule(self.p.alerts)
        self.model: AnomalyModel | None = None
        self.states: list[StateNorm] = []
        self._state: StateNorm | None = None
        self._ref = np.zeros(0)  # the tracking reference of the current state
        self._pool = np.zeros((0, N_FEATURES))  # honest baseline deviations of every state learnt
        self._learning: list[tuple[float, np.ndarray, np.ndarray, float]] = []  # ts, features, temps, current
        self._learn_from: float | None = None
        self._last_ts: float | None = None
        self.baseline_samples = 0

    @property
    def commissioned(self) -> bool:
        return self.model is not None

    @property
    def learning(self) -> bool:
        return self._learn_from is not None

    def interrupted(self) -> None:
        """The source lost the device; scoring resumes only after the pump has settled again."""
        self.regime.interrupted()

    def process(self, ts: float, values: np.ndarray, flagged: np.ndarray | None = None) -> Scored:
        """Score one sample. ``flagged``: channels the source reported not good (see FeatureExtractor)."""
        dt = 1.0 if self._last_ts is None else max(ts - self._last_ts, 0.0)
        self._last_ts = ts
        commissioned_now = self._pending is not None and ts >= self._adopt_at and self._adopt()
        values, implausible = self.gate.apply(values)
        flagged = implausible if flagged is None else flagged | implausible
        regime = self.regime.update(ts, values)
        f = self.features.update(ts, values, flagged)
        score: float | None = None
        contrib: np.ndarray | None = None
        if regime is not Regime.RUNNING:
            self._state = None
            self._learn_from = None
            self._learning.clear()
        else:
            if self._state is None and self._learn_from is None:
                self._state = self._known_state()
                if self._state is None:
                    self._learn_from = ts
                else:
                    self._ref = self._state.anchor(f, self.p.model)
            if self._learn_from is not None:
                self._learning.append((ts, f.copy(), self.features.slow_level.copy(), self.regime.current_level))
                if ts - self._learn_from >= self.p.baseline_s:
                    commissioned_now = self._finish_learning() or commissioned_now
            else:
                assert self._state is not None
                z = self._state.deviations(f, self._ref, self.features.slow_level)
                if flagged.any():
                    z[(_USES & flagged).any(axis=1)] = 0.0
                self._state.track(self._ref, z, dt, self.p.model)
                if self.model is not None:  # None only while the first fit runs on the fitter
                    score = self.model.score(z)
                    contrib = contributions(z, self.features.missing_share())
        transition = self.alerts.update(ts, score, contrib)
        return Scored(regime, self.regime.changed, score, transition, commissioned_now)

    def _known_state(self) -> StateNorm | None:
        level = self.regime.current_level
        best = min(self.states, key=lambda s: abs(s.current_level - level), default=None)
        if best is not None and abs(best.current_level - level) <= self.p.state_tolerance * abs(best.current_level):
            return best
        return None

    def _finish_learning(self) -> bool:
        t0 = self._learning[0][0]
        kept = [row for row in self._learning if row[0] - t0 >= min(self.p.warmup_s, self.p.baseline_s / 2)]
        if len(kept) < self.p.model.folds:  # a gap in the data spanned the window: nothing to learn from yet
            log.info("learning window of %.0f s holds only %d sample(s) after its warm-up (a gap in the data); "
                     "learning starts again", self._learning[-1][0] - t0, len(kept))
            self._learning = self._learning[-1:]
            self._learn_from = self._learning[0][0]
            return False
        ts = np.array([r[0] for r in kept])
        feats = np.array([r[1] for r in kept])
        slow = np.array([r[2] for r in kept])
        # The state's key is the window's median current, not the current at its last sample (one wild value).
        state = StateNorm.fit(feats, slow, float(np.median([r[3] for r in kept])))
        self.states.append(state)
        self._state = state
        self._ref = state.centre.copy()
        for i in range(len(kept)):  # bring the reference to where it would be now
            z = state.deviations(feats[i], self._ref, slow[i])
            state.track(self._ref, z, float(ts[i] - ts[i - 1]) if i else 0.0, self.p.model)
        self._learn_from = None
        self._learning.clear()
        # Every state learnt widens what the forest knows as normal; refitting takes well under a second.
        self._pool = np.concatenate([self._pool, honest_deviations(feats, slow, self.p.model)])[-POOL_MAX:]
        if self.baseline_samples == 0:
            self.baseline_samples = len(kept)
        if self._fitter is None:
            first = self.model is None
            self.model = AnomalyModel.fit(self._pool, self.p.model)
            return first
        if self._pending is not None:  # two states learnt while one fit runs: the newer pool wins
            self._pending.cancel()
        pool, mp = self._pool.copy(), self.p.model
        self._pending = self._fitter(lambda: AnomalyModel.fit(pool, mp))
        self._adopt_at = float(ts[-1]) + ADOPT_AFTER_S  # the learning window's last sample
        return False

    def _adopt(self) -> bool:
        """Take the fit ADOPT_AFTER_S of data time after it was asked for - waiting for it if it is not done,
        which only happens in faster-than-real-time replays - so results do not depend on machine speed.
        On the detection thread, between samples. True if it commissioned the asset."""
        fut, self._pending = self._pending, None
        assert fut is not None
        try:
            exc = fut.exception()  # blocks until the fit is done
        except CancelledError:  # the engine is stopping
            return False
        if exc is not None:  # keep scoring with what we had; the next state learnt refits
            self.fit_error = exc
            return False
        first = self.model is None
        self.model = fut.result()
        return first
