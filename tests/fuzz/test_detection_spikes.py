"""A short burst of arbitrary values in any channels never leaves detection stopped or unscored (issue 9, defect 1).

Whatever a publisher sends for a few samples (huge, tiny, negative, infinite, NaN, in one channel or several), once
normal data continues the pump is running and scored again, and no alarm is left standing: no learnt reference
(running level, wobble, supply reference, state baselines) may keep the burst.
"""
from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
from hypothesis import given, settings, strategies as st

from acquisition.channels import N_CHANNELS
from acquisition.simulator import PumpStation, StationConfig
from detection.pipeline import AssetPipeline
from detection.regime import Regime

COMMISSIONED_AT = 900

wild = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e12, max_value=1e12),
    st.sampled_from([0.0, -0.0, 1e6, -1e6, 1e300, -1e300, 5e-324]),
)


@st.composite
def bursts(draw: st.DrawFn, max_at: int) -> tuple[int, np.ndarray, np.ndarray]:
    length = draw(st.integers(1, 3))
    at = draw(st.integers(0, max_at))
    channels = np.array(draw(st.lists(st.booleans(), min_size=N_CHANNELS, max_size=N_CHANNELS)))
    if not channels.any():
        channels[draw(st.integers(0, N_CHANNELS - 1))] = True
    values = np.array(draw(st.lists(st.lists(wild, min_size=N_CHANNELS, max_size=N_CHANNELS),
                                    min_size=length, max_size=length)))
    return at, channels, values


@lru_cache(maxsize=1)
def _steady() -> tuple[np.ndarray, np.ndarray]:
    run = PumpStation(StationConfig(n_pumps=1, seed=6, schedule=False)).simulate(3600)
    return run.ts, run.values[:, 0]


@lru_cache(maxsize=1)
def _commissioned() -> AssetPipeline:
    ts, values = _steady()
    pipe = AssetPipeline()
    for k in range(COMMISSIONED_AT):
        pipe.process(float(ts[k]), values[k])
    assert pipe.commissioned
    return pipe


def _spoil(values: np.ndarray, burst: tuple[int, np.ndarray, np.ndarray]) -> np.ndarray:
    at, channels, wild_rows = burst
    out = values.copy()
    rows = out[at:at + len(wild_rows)]
    rows[:, channels] = wild_rows[: len(rows)][:, channels]
    return out


def _assert_recovered(out: list, settle: int) -> None:
    tail = out[settle:]
    assert all(o.regime is Regime.RUNNING for o in tail), "the pump is running, not stopped or settling"
    assert all(o.score is not None and np.isfinite(o.score) for o in tail), "every sample is scored"
    assert np.median([o.score for o in tail[-100:]]) < 1.0, "the score is back inside normal"


@given(bursts(max_at=600))
def test_a_burst_on_a_commissioned_pump_leaves_nothing_behind(burst) -> None:
    ts, values = _steady()
    at = burst[0] + COMMISSIONED_AT
    spoilt = _spoil(values, (at, *burst[1:]))
    pipe = copy.deepcopy(_commissioned())
    out = [pipe.process(float(ts[k]), spoilt[k]) for k in range(COMMISSIONED_AT, at + 500)]
    _assert_recovered(out, at - COMMISSIONED_AT + 200)
    assert not pipe.alerts.active


@settings(max_examples=10)  # each example commissions a pipeline from scratch (~0.5 s)
@given(bursts(max_at=450))
def test_a_burst_while_commissioning_does_not_spoil_the_baseline(burst) -> None:
    ts, values = _steady()
    spoilt = _spoil(values, burst)
    pipe = AssetPipeline()
    out = [pipe.process(float(t), v) for t, v in zip(ts[:1400], spoilt[:1400], strict=True)]
    assert pipe.commissioned
    _assert_recovered(out, 1100)
    assert not pipe.alerts.active
    assert all(s.current_level < 100 for s in pipe.states)
