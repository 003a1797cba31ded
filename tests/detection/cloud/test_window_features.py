"""Window features: finite whatever the window holds, blind to a set-point change, sharp on a fault."""
from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from acquisition.channels import CHANNELS, FLOW, PRESSURE
from acquisition.simulator import PumpStation, StationConfig
from detection.cloud.window_features import FEATURE_NAMES, N_FEATURES, last_transition, window_features


@pytest.fixture(scope="module")
def run():
    """One pump at a fixed set-point, then the same pump seen around its first set-point change."""
    station = PumpStation(StationConfig(n_pumps=1, seed=5))
    return station, station.simulate(12 * 3600)  # seed 5: set-point changes, then a stop


def _steady(run) -> tuple[np.ndarray, np.ndarray]:
    station, r = run
    return r.ts[1000:1300], r.values[1000:1300, 0].copy()


def _feature(x: np.ndarray, name: str) -> float:
    return float(x[FEATURE_NAMES.index(name)])


def test_steady_running_is_quiet(run) -> None:
    x = window_features(*_steady(run))
    assert x.shape == (N_FEATURES,) and x.dtype == np.float32
    t = [abs(_feature(x, f"{c}.t_late")) for c in CHANNELS]
    assert max(t) < 5, dict(zip(CHANNELS, t, strict=True))


def test_a_step_on_one_channel_stands_out(run) -> None:
    ts, v = _steady(run)
    v[-25:, FLOW] *= 0.97  # a 3 % drop in the last 25 s: small, but many times the flow's own noise
    x = window_features(ts, v)
    assert _feature(x, "flow.t_late") < -8
    assert abs(_feature(x, "pressure.t_late")) < 5


def test_a_flat_line_collapses_the_spread(run) -> None:
    ts, v = _steady(run)
    v[-60:, PRESSURE] = v[-60, PRESSURE]
    assert _feature(window_features(ts, v), "pressure.spread_late") < -5


def test_set_point_change_inside_the_window_is_compared_after_it(run) -> None:
    station, r = run
    log = station.regime_log("P-101", r.ts[-1])
    change = next(e for prev, e in pairwise(log) if e.regime == prev.regime == "RUNNING")
    end = int(change.ts - r.ts[0]) + 150  # the change is in the middle of the window
    ts, v = r.ts[end - 299: end + 1], r.values[end - 299: end + 1, 0]
    assert last_transition(ts - ts[-1], v) is not None
    x = window_features(ts, v)
    assert max(abs(_feature(x, f"{c}.t_late")) for c in CHANNELS) < 6
    assert 0 < _feature(x, "transition.age") < 1


def test_window_ending_in_a_stop_is_flagged(run) -> None:
    station, r = run
    stop = next(e for e in station.regime_log("P-101", r.ts[-1]) if e.regime == "STOPPING")
    end = int(stop.ts - r.ts[0]) + 8
    x = window_features(r.ts[end - 299: end + 1], r.values[end - 299: end + 1, 0])
    assert _feature(x, "transition.at_end") == 1.0


def test_missing_values_never_make_features_non_finite(run) -> None:
    ts, v = _steady(run)
    v[:, 3] = np.nan  # one channel gone entirely
    v[::3, 7] = np.nan  # another one every third sample
    v[-30:, :] = np.nan  # and everything at the end
    x = window_features(ts, v)
    assert np.all(np.isfinite(x))
    assert _feature(x, "pressure.missing") == 1.0
    short = window_features(ts[-12:], v[-12:])  # far shorter than the contract's window
    assert np.all(np.isfinite(short))
    all_nan = window_features(ts, np.full_like(v, np.nan))
    assert np.all(np.isfinite(all_nan))


def test_features_do_not_depend_on_the_clock(run) -> None:
    ts, v = _steady(run)
    assert np.array_equal(window_features(ts, v), window_features(ts - 1e6, v))
