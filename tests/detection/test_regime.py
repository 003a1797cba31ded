from __future__ import annotations

import numpy as np

from acquisition.simulator import PumpStation, StationConfig
from detection.regime import Regime, RegimeTracker


def regimes_of(values: np.ndarray, ts: np.ndarray) -> list[Regime]:
    tracker = RegimeTracker()
    return [tracker.update(float(t), v) for t, v in zip(ts, values, strict=True)]


def test_setpoint_change_is_a_transition_not_running() -> None:
    station = PumpStation(StationConfig(n_pumps=2, seed=0))
    run = station.simulate(2 * 3600)
    change = [e for e in station.regime_log("P-102", run.ts[-1]) if e.setpoint != 1.0]
    assert change, "the seed-0 schedule changes P-102's set-point within 2 h"
    t_change = change[0].ts
    got = regimes_of(run.values[:, 1], run.ts)
    idx = int(np.searchsorted(run.ts, t_change))
    assert Regime.TRANSITION in got[idx:idx + 15], "detected within 15 s of the ramp's start"
    assert got[idx - 1] is Regime.RUNNING and got[-1] is Regime.RUNNING


def test_stop_and_start_up() -> None:
    station = PumpStation(StationConfig(n_pumps=1, seed=0, start_stopped=True))
    run = station.simulate(3600)
    got = regimes_of(run.values[:, 0], run.ts)
    assert got[0] is Regime.STOPPED
    assert Regime.STARTING in got
    first_running = got.index(Regime.RUNNING)
    assert all(r is Regime.STARTING for r in got[got.index(Regime.STARTING):first_running])


def test_steady_noisy_pump_never_leaves_running() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    values = np.tile([2.0, 1.5, 1.0, 0.1, 70.0, 25.0, 230.0, 32.0], (n, 1))
    values[:, 2] *= 1 + 0.25 * rng.standard_normal(n)  # very noisy current, as on the SKAB bench
    values[:, 7] *= 1 + 0.02 * rng.standard_normal(n)
    got = regimes_of(values, np.arange(n, dtype=float))
    assert set(got) == {Regime.RUNNING}
