"""One asset's whole detection pipeline, sample by sample: plausibility gate -> regime -> features ->
normalisation -> forest, largest deviation and persistent shift -> alert rule. The engine runs it live;
``detection.offline`` runs the very same object over a DataFrame.

Commissioning: the first steady running window with enough time and samples defines normal (the normalisation of
that operating state and the forest; detection.commissioning refuses a window that is not steady). A later
operating state the pump has not been seen in (a new set-point) is learnt the same way, for its normalisation
only, while its alarms are held off; a known state is recognised by its motor current and reused at once.

Rate: every time constant is a detection.timing.Span, re-derived for the sampling period in use (declared by the
source, then measured from the data). A frame that repeats the previous one exactly (a source re-sending held
values between a logger's messages) is not a new sample; a gap longer than the regime's slow time constant
re-settles like a device outage, since the process may have moved meanwhile.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from acquisition.channels import N_CHANNELS
from detection.alerts import AlertParams, AlertRule, AlertTransition
from detection.commissioning import LearningProgress, LearningWindow, Row
from detection.features import FEATURES, N_FEATURES, FeatureExtractor, FeatureParams
from detection.model import SHIFTED, AnomalyModel, ModelParams, StateNorm, contributions, honest_deviations
from detection.plausibility import GateParams, PlausibilityGate
from detection.reference import LevelReference
from detection.regime import Regime, RegimeParams, RegimeTracker
from detection.shift import ShiftWatch
from detection.timing import PeriodEstimator, Span

log = logging.getLogger(__name__)

POOL_MAX = 4096  # baseline rows kept for refitting (about an hour at 1 Hz)
MAX_SUSPENDED = 4  # interrupted learning windows kept for resuming
# _USES[i, c]: feature i is computed from channel c. A channel its source flagged not good (held at its last value)
# must not drive any feature built on it: a held value is a flat line and a frozen level, not the process.
_USES = np.array([[c in f.channels for c in range(N_CHANNELS)] for f in FEATURES])


class DetectionSettingsLike(Protocol):
    """What :meth:`PipelineParams.from_settings` reads of app.config.DetectionSettings (not imported: layering)."""

    baseline_s: float
    baseline_samples: int
    n_estimators: int
    max_samples: int
    seed: int
    threshold: float
    clear_ratio: float
    min_duration_s: float
    min_duration_samples: int
    dedup_window_s: float
    settle_s: float
    top_channels: int


@dataclass(frozen=True, slots=True)
class PipelineParams:
    baseline: Span = Span(300.0, 120)  # a learning window: this much running, after the warm-up
    warmup: Span = Span(120.0, 5)  # the first part of a learning window primes the smoothers and is not fitted
    state_tolerance: float = 0.15  # relative motor-current distance within which a known state is reused
    sample_period_s: float | None = None  # declared by the source; None: measured from the data
    gap_periods: float = 5.0  # a silence longer than this many periods (and the regime's slow time constant)
    adopt_after: Span = Span(5.0, 1)  # a model fitted off-thread takes effect this long after its window
    gate: GateParams = field(default_factory=GateParams)
    regime: RegimeParams = field(default_factory=RegimeParams)
    features: FeatureParams = field(default_factory=FeatureParams)
    model: ModelParams = field(default_factory=ModelParams)
    alerts: AlertParams = field(default_factory=AlertParams)

    @classmethod
    def from_settings(cls, d: DetectionSettingsLike, sample_period_s: float | None = None) -> PipelineParams:
        """From app.config.DetectionSettings and the source's declared period."""
        return cls(
            baseline=Span(d.baseline_s, d.baseline_samples),
            sample_period_s=sample_period_s,
            regime=RegimeParams(settle=Span(d.settle_s, RegimeParams().settle.samples)),
            model=ModelParams(n_estimators=d.n_estimators, max_samples=d.max_samples, seed=d.seed),
            alerts=AlertParams(threshold=d.threshold, clear_ratio=d.clear_ratio,
                               min_duration=Span(d.min_duration_s, d.min_duration_samples),
                               dedup_window=Span(d.dedup_window_s, AlertParams().dedup_window.samples),
                               top_channels=d.top_channels),
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
Fitter = Callable[[Callable[[], AnomalyModel]], Future[AnomalyModel]]


class AssetPipeline:
    def __init__(self, params: PipelineParams | None = None, fitter: Fitter | None = None) -> None:
        self.p = params or PipelineParams()
        self._fitter = fitter
        self._pending: Future[AnomalyModel] | None = None  # a refit under way; the previous model scores meanwhile
        self.fit_error: BaseException | None = None
        self._adopt_at = 0.0
        self.period = PeriodEstimator(self.p.sample_period_s)
        self.gate = PlausibilityGate(self.p.gate)
        self.regime = RegimeTracker(self.p.regime, self.period.period_s)
        self.features = FeatureExtractor(self.p.features, self.period.period_s)
        self.alerts = AlertRule(self.p.alerts, self.period.period_s)
        self.window = LearningWindow(self.p.baseline, self.p.warmup, self.period.period_s)
        # Learning interrupted by a stop or a speed change is kept and resumed on the next visit to the same
        # state (keyed by motor current): at one sample a minute a set-point rarely lasts a whole window.
        self._suspended: list[tuple[float, list[Row]]] = []
        self.shift = ShiftWatch(len(SHIFTED), self.p.model.shift_edge)
        self.model: AnomalyModel | None = None
        self.states: list[StateNorm] = []
        self.reference = LevelReference(self.p.model)  # the current state and where its levels should be now
        self._pool = np.zeros((0, N_FEATURES))  # honest baseline deviations of every state learnt
        self._last_ts: float | None = None
        self._last_values: np.ndarray | None = None
        self._last_out: Scored | None = None
        self.baseline_samples = 0
        self._retime()

    def _retime(self) -> None:
        period = self.period.period_s
        self.regime.retime(period)
        self.features.retime(period)
        self.alerts.retime(period)
        self.window.retime(period)
        mp = self.p.model
        self._track_tau, self._shift_tau = mp.track_tau.at(period), mp.shift_tau.at(period)
        self._gap_s = max(self.p.gap_periods * period, self.p.regime.slow_tau.at(period))
        self._adopt_after = self.p.adopt_after.at(period)
        self.shift.calibrate(self.model.shift if self.model is not None else None, self._shift_tau, period)

    @property
    def commissioned(self) -> bool:
        return self.model is not None

    @property
    def learning(self) -> bool:
        return self.window.active

    def learning_progress(self) -> LearningProgress | None:
        """What the operator sees while normal is being learnt (None once the current state is known)."""
        if self.window.active:
            return self.window.progress()
        if self.commissioned:
            return None
        reason = {Regime.STOPPED: "pump stopped", Regime.STARTING: "pump starting",
                  Regime.TRANSITION: "pump changing speed"}.get(self.regime.regime, "warming up")
        done = max((len(rows) for _, rows in self._suspended), default=0)
        return LearningProgress(done, self.window.needed, reason)

    def commission_now(self) -> bool:
        """Adopt the learning window as it stands (offline runs: the training rows are the baseline). Raises
        ValueError naming the reason when there is no steady running window to adopt."""
        if not self.window.active:
            raise ValueError("the pump was not running steadily at the end of the baseline rows: "
                             f"{self.learning_progress() or 'already commissioned'}")
        return self._finish_learning(self.window.take())

    def interrupted(self) -> None:
        """The source lost the device; scoring resumes only after the pump has settled again."""
        self.regime.interrupted()

    def process(self, ts: float, values: np.ndarray, flagged: np.ndarray | None = None) -> Scored:
        """Score one sample. ``flagged``: channels the source reported not good (see FeatureExtractor)."""
        if self._repeats(values):
            assert self._last_out is not None
            out = self._last_out
            return Scored(out.regime, False, out.score, None, False)
        dt = 0.0 if self._last_ts is None else max(ts - self._last_ts, 0.0)
        if self._last_ts is not None:
            if self.period.add(dt):
                log.info("sampling period now %.3g s: detection re-timed", self.period.period_s)
                self._retime()
            if dt > self._gap_s:
                self.regime.interrupted()
        self._last_ts = ts
        commissioned_now = self._pending is not None and ts >= self._adopt_at and self._adopt()
        values, implausible = self.gate.apply(ts, values)
        flagged = implausible if flagged is None else flagged | implausible
        regime = self.regime.update(ts, values)
        if self.regime.moving:
            self.features.restart()
        f = self.features.update(ts, values, flagged)
        score: float | None = None
        contrib: np.ndarray | None = None
        if regime is not Regime.RUNNING:
            self._leave_state(regime)
        elif self.features.warm:
            if self.reference.state is None and not self.window.active:
                self._enter_state(ts)
            if self.window.active:
                row = Row(ts, f.copy(), self.features.slow_level.copy(), self.regime.current_level,
                          values.copy(), flagged)
                adopted = self.window.add(row)
                if adopted is not None:
                    commissioned_now = self._finish_learning(adopted) or commissioned_now
            else:
                score, contrib = self._score(ts, f, flagged, dt)
        transition = self.alerts.update(ts, score, contrib)
        if self.reference.state is not None and self.reference.fault_over(self.alerts.active, transition is not None):
            self.reference.reanchor(ts, self._track_tau)
            self.shift.reset()
        self._last_out = Scored(regime, self.regime.changed, score, transition, commissioned_now)
        return self._last_out

    def _score(self, ts: float, f: np.ndarray, flagged: np.ndarray, dt: float
               ) -> tuple[float | None, np.ndarray | None]:
        """The fused score of one sample in the current state, and the channels' contributions to it."""
        held = (_USES & flagged).any(axis=1) if flagged.any() else None
        z, _ = self.reference.deviations(ts, f, self.features.slow_level, held, dt, self._track_tau)
        age = self.reference.anchor_age_s
        if age < self._shift_tau:
            self.shift.reset()  # it would take the forming anchor's noise for a shift
        if self.model is None:  # only while the first fit runs on the fitter
            return None, None
        # The average is measured against the anchor, whose mean over ``age`` has an error of its own: its
        # variance is 2 tau / age times the average's (a mean over T vs an EWMA of time constant tau).
        widen = float(np.sqrt(1.0 + 2.0 * self._shift_tau / max(age, self._shift_tau)))
        score = self.model.score(z, None if age < self._shift_tau else self.shift, dt, self._shift_tau, widen)
        return score, contributions(z, self.features.missing_share())

    def _repeats(self, values: np.ndarray) -> bool:
        """True for an exact repeat of the previous frame: a held value re-sent, not a new sample."""
        last, self._last_values = self._last_values, values.copy()
        if last is None or self._last_out is None:
            return False
        if values[0] == last[0] or values[0] != values[0]:  # usually differs in the first channel already
            return bool(np.array_equal(values, last, equal_nan=True)) and not np.isnan(values).all()
        return False

    def _leave_state(self, regime: Regime) -> None:
        self.reference.leave()
        if self.window.active:
            rows = self.window.stop({Regime.STOPPED: "pump stopped", Regime.STARTING: "pump starting"}
                                    .get(regime, "pump changing speed"))
            if rows:
                self._suspended = [*self._suspended, (float(np.median([r.current for r in rows])), rows)]
                self._suspended = self._suspended[-MAX_SUSPENDED:]

    def _enter_state(self, ts: float) -> None:
        state = self._known_state()
        if state is None:
            self.window.start(ts, self._resumable())
        else:
            self.reference.enter(state, ts, self._track_tau)
            self.shift.reset()

    def _resumable(self) -> list[Row] | None:
        """The rows of a suspended window at this motor current (taken out of the list), or None."""
        level = self.regime.current_level
        for i, (key, rows) in enumerate(self._suspended):
            if abs(key - level) <= self.p.state_tolerance * abs(key):
                del self._suspended[i]
                return rows
        return None

    def _known_state(self) -> StateNorm | None:
        level = self.regime.current_level
        best = min(self.states, key=lambda s: abs(s.current_level - level), default=None)
        if best is not None and abs(best.current_level - level) <= self.p.state_tolerance * abs(best.current_level):
            return best
        return None

    def _finish_learning(self, rows: list[Row]) -> bool:
        ts = np.array([r.ts for r in rows])
        feats = np.array([r.features for r in rows])
        slow = np.array([r.slow for r in rows])
        # The state's key is the window's median current, not the current at its last sample (one wild value).
        state = StateNorm.fit(feats, slow, float(np.median([r.current for r in rows])))
        self.states.append(state)
        self._suspended = [(k, r) for k, r in self._suspended  # visits to this state: no longer needed
                           if abs(k - state.current_level) > self.p.state_tolerance * abs(k)]
        # The reference starts from the end of the window (it may join visits days apart): anchored on its last
        # stretch of contiguous samples, and on the samples that follow until that covers a tracking time.
        recent = [rows[-1]]
        for r in reversed(rows[:-1]):
            if recent[-1].ts - r.ts > self._gap_s or rows[-1].ts - r.ts >= self._track_tau:
                break
            recent.append(r)
        recent.reverse()
        self.reference.enter(state, rows[-1].ts, self._track_tau,
                             (np.array([r.ts for r in recent]), np.array([r.features for r in recent])))
        self.shift.reset()
        # Every state learnt widens what the forest knows as normal; refitting takes well under a second.
        self._pool = np.concatenate([self._pool, honest_deviations(feats, slow, self.p.model)])[-POOL_MAX:]
        if self.baseline_samples == 0:
            self.baseline_samples = len(rows)
        period = self.period.period_s
        if self._fitter is None:
            first = self.model is None
            self.model = AnomalyModel.fit(self._pool, self.p.model, period)
            self._retime()
            return first
        if self._pending is not None:  # two states learnt while one fit runs: the newer pool wins
            self._pending.cancel()
        pool, mp = self._pool.copy(), self.p.model
        self._pending = self._fitter(lambda: AnomalyModel.fit(pool, mp, period))
        self._adopt_at = float(ts[-1]) + self._adopt_after  # the learning window's last sample
        return False

    def _adopt(self) -> bool:
        """Take the fit ``adopt_after`` of data time after it was asked for - waiting for it if it is not done,
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
        self._retime()
        return first
