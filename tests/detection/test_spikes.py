"""One implausible reading must never ruin a learnt reference (issue 9, defect 1).

A single current of 1e6 on a channel with no configured range used to become the tracker's "highest running
current" for ever, so every later sample looked stopped: no scores, no alarms. These tests feed spikes, infinities
and short bursts into every channel at several moments and check that the pump is running and scored again once
normal data continues, and that each learnt reference (running level, wobble, supply reference, state scales)
stays where normal data put it.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

from acquisition.channels import CHANNELS, CURRENT, VOLTAGE
from acquisition.simulator import PumpStation, StationConfig
from detection.alerts import AlertStarted
from detection.features import FEATURES, FeatureExtractor
from detection.model import StateNorm
from detection.pipeline import AssetPipeline
from detection.regime import Regime, RegimeTracker

WILD = (1e6, -1e6, np.inf, -np.inf, 1e300)


@pytest.fixture(scope="module")
def steady():  # (ts, values) of one pump running steadily for 2.5 h at 1 s
    run = PumpStation(StationConfig(n_pumps=1, seed=4, schedule=False)).simulate(9000)
    return run.ts, run.values[:, 0]


@pytest.fixture(scope="module")
def commissioned(steady) -> AssetPipeline:
    ts, values = steady
    pipe = AssetPipeline()
    for k in range(900):
        pipe.process(float(ts[k]), values[k])
    assert pipe.commissioned and pipe.regime.regime is Regime.RUNNING
    return pipe


def run_on(pipe: AssetPipeline, ts: np.ndarray, values: np.ndarray, start: int, stop: int) -> list:
    return [pipe.process(float(ts[k]), values[k]) for k in range(start, stop)]


def test_the_reported_case_one_huge_current_then_an_hour_of_normal(steady, commissioned) -> None:
    ts, values = steady
    pipe = copy.deepcopy(commissioned)
    wild = values[900].copy()
    wild[CURRENT] = 1e6
    pipe.process(float(ts[900]), wild)
    out = run_on(pipe, ts, values, 901, 901 + 3600)
    assert out[-1].regime is Regime.RUNNING
    assert all(o.regime is Regime.RUNNING for o in out[60:]), "running again within a minute"
    assert all(o.score is not None and np.isfinite(o.score) for o in out[60:]), "scoring resumed"
    assert not any(isinstance(o.transition, AlertStarted) for o in out)
    assert pipe.regime.running_level.value < 100, "the usual running current is still amps, not 1e6"


def test_the_tracker_alone_recovers_from_one_huge_current(steady) -> None:
    """The direct test of the report: the regime tracker fed the spike, then 3,600 normal samples."""
    ts, values = steady
    tracker = RegimeTracker()
    for k in range(1800):
        tracker.update(float(ts[k]), values[k])
    wild = values[1800].copy()
    wild[CURRENT] = 1e6
    tracker.update(float(ts[1800]), wild)
    got = [tracker.update(float(ts[k]), values[k]) for k in range(1801, 1801 + 3600)]
    assert got.count(Regime.STOPPED) == 0
    assert got[-1] is Regime.RUNNING


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("wild", WILD, ids=str)
def test_a_wild_value_in_any_channel_neither_stops_nor_alarms(steady, commissioned, channel: str,
                                                              wild: float) -> None:
    ts, values = steady
    pipe = copy.deepcopy(commissioned)
    v = values[900].copy()
    v[CHANNELS.index(channel)] = wild
    out = [pipe.process(float(ts[900]), v)] + run_on(pipe, ts, values, 901, 901 + 600)
    assert all(o.regime is Regime.RUNNING for o in out)
    assert all(o.score is not None and np.isfinite(o.score) for o in out)
    assert not any(isinstance(o.transition, AlertStarted) for o in out), "a value no process made is not an alarm"


@pytest.mark.parametrize("length", [2, 3])
def test_a_burst_of_a_few_wild_samples_in_several_channels(steady, commissioned, length: int) -> None:
    ts, values = steady
    pipe = copy.deepcopy(commissioned)
    burst = values[900:900 + length].copy()
    burst[:, [CURRENT, 3, 7]] = [[1e7, -1e5, np.inf]] * length
    out = run_on(pipe, ts, np.concatenate([values[:900], burst, values[900 + length:]]), 900, 900 + 900)
    assert all(o.regime is Regime.RUNNING for o in out)
    assert all(o.score is not None for o in out)
    assert not any(isinstance(o.transition, AlertStarted) for o in out)


@pytest.mark.parametrize("at", [0, 1, 5, 150, 400])
def test_a_wild_current_during_commissioning_does_not_spoil_it(steady, at: int) -> None:
    ts, values = steady
    v = values.copy()
    v[at, CURRENT] = 1e6
    v[at, VOLTAGE] = 1e9
    pipe = AssetPipeline()
    out = run_on(pipe, ts, v, 0, 2400)
    assert pipe.commissioned
    assert all(o.regime is Regime.RUNNING and o.score is not None for o in out[-600:])
    assert not any(isinstance(o.transition, AlertStarted) for o in out)
    assert pipe.states[0].current_level < 100


def test_the_supply_reference_ignores_a_wild_first_voltage(steady) -> None:
    ts, values = steady
    level = FEATURES.index(next(f for f in FEATURES if f.name == "current.level"))
    clean, spoilt = FeatureExtractor(), FeatureExtractor()
    v = values[:300].copy()
    v[0, VOLTAGE] = 1e9
    a = [clean.update(float(t), row).copy() for t, row in zip(ts[:300], values[:300], strict=True)]
    b = [spoilt.update(float(t), row).copy() for t, row in zip(ts[:300], v, strict=True)]
    assert b[-1][level] == pytest.approx(a[-1][level], rel=0.02)


def test_a_state_scale_ignores_one_wild_baseline_row(steady) -> None:
    ts, values = steady
    fx = FeatureExtractor()
    feats = np.array([fx.update(float(t), row).copy() for t, row in zip(ts[200:500], values[200:500], strict=True)])
    slow = np.full((len(feats), 2), 20.0)
    clean = StateNorm.fit(feats, slow, 16.0)
    feats[150] = 1e6
    spoilt = StateNorm.fit(feats, slow, 16.0)
    np.testing.assert_allclose(spoilt.scale, clean.scale, rtol=0.1)


@pytest.mark.parametrize("before_s", [30, 600])
def test_a_setpoint_change_after_a_spike_is_still_a_transition(before_s: int) -> None:
    """The tracker's "usual wobble" must not swallow a spike, else speed changes look like faults for hours. Six
    times the running current is within what the plausibility gate lets through (a motor's starting current)."""
    station = PumpStation(StationConfig(n_pumps=2, seed=0))
    run = station.simulate(2 * 3600)
    change = [e for e in station.regime_log("P-102", run.ts[-1]) if e.setpoint != 1.0][0]
    idx = int(np.searchsorted(run.ts, change.ts))
    values = run.values[:, 1].copy()
    values[idx - before_s, CURRENT] *= 5.9
    tracker = RegimeTracker()
    got = [tracker.update(float(t), v) for t, v in zip(run.ts, values, strict=True)]
    assert Regime.TRANSITION in got[idx:idx + 15]
    assert got[-1] is Regime.RUNNING
