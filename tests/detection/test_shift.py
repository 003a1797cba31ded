"""Small persistent shifts (issue 10, item 3): a level held a couple of its scale units off is found by the
persistent-shift view, which the sample-by-sample views never reach; and it does not outlive the fault."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from acquisition.channels import FLOW
from acquisition.simulator import PumpStation, StationConfig
from detection.alerts import AlertEnded, AlertStarted
from detection.pipeline import AssetPipeline, PipelineParams
from detection.shift import ShiftCalibration


def test_the_limit_follows_the_correlation_time_and_the_average() -> None:
    rng = np.random.default_rng(0)
    white = 10.0 * rng.standard_normal((4000, 1))  # scale units well above the floor of the limit
    smooth = np.convolve(white[:, 0], np.ones(10) / np.sqrt(10), mode="same")[:, None]  # correlated over ~10
    a, b = ShiftCalibration.fit(white, 1.0), ShiftCalibration.fit(smooth, 1.0)
    assert a.corr_s[0] < 1.0 and 4.0 < b.corr_s[0] < 6.0  # a 10-sample moving average: 1/2 + 9 x 1/2 = 5
    assert b.sd_of_average(300.0, 1.0)[0] > 2 * a.sd_of_average(300.0, 1.0)[0]
    assert a.sd_of_average(300.0, 1.0)[0] < a.sd_of_average(30.0, 1.0)[0]  # a longer average is steadier


def first_alarm(values: np.ndarray, ts: np.ndarray, params: PipelineParams, start: int):
    """(seconds after ``start``, views, alert) of the first alarm from ``start`` on, or None."""
    pipe = AssetPipeline(params)
    for i, (x, v) in enumerate(zip(ts, values, strict=True)):
        o = pipe.process(float(x), v)
        if isinstance(o.transition, AlertStarted):
            assert i >= start, "an alarm before the shift"
            return x - ts[start], pipe.model.last_views, o.transition  # type: ignore[union-attr]
    return None


@pytest.mark.parametrize("period, noises", [(1.0, 0.8), (10.0, 1.5)])
def test_a_flow_held_a_little_low_is_found_by_the_shift_view(period: float, noises: float) -> None:
    """Flow held low, for good, by about one raw sample's noise (about 1 % of flow; the issue's leak is 2-3 %):
    never past the edge sample by sample, but on average. Fewer samples per minute need a little more."""
    run = PumpStation(StationConfig(n_pumps=1, seed=3, sample_period_s=period, schedule=False)).simulate(5 * 3600)
    ts, values = run.ts, run.values[:, 0].copy()
    params = PipelineParams(sample_period_s=period)
    start = int(np.searchsorted(ts - ts[0], 3600))
    noise = np.std(np.diff(values[:start, FLOW])) / np.sqrt(2)
    values[start:, FLOW] -= noises * noise
    assert noises * noise < 0.015 * values[:start, FLOW].mean()
    found = first_alarm(values, ts, params, start)
    assert found is not None, f"a held shift of {noises} sample noise(s) went unnoticed"
    delay, views, alert = found
    assert views[2] >= 1.25, f"found by the shift view: {views}"
    assert alert.top_channels[0][0] == "flow"
    assert delay <= 3600
    without = dataclasses.replace(params, model=dataclasses.replace(params.model, shift_edge=1e9))
    assert first_alarm(values, ts, without, start) is None, "the other views alone do not see it"


def test_the_shift_view_does_not_carry_a_fault_on_after_it_ends() -> None:
    run = PumpStation(StationConfig(n_pumps=1, seed=3, schedule=False)).simulate(3 * 3600)
    ts, values = run.ts, run.values[:, 0].copy()
    t = ts - ts[0]
    fault = (t >= 3600) & (t < 3600 + 600)
    values[fault, FLOW] *= 0.8  # ten minutes of a throttled outlet, then back to normal
    pipe = AssetPipeline()
    outputs = (pipe.process(float(x), v) for x, v in zip(ts, values, strict=True))
    events = [(t[i], o.transition) for i, o in enumerate(outputs) if o.transition is not None]
    assert [type(e) for _, e in events] == [AlertStarted, AlertEnded]
    assert events[1][0] - (3600 + 600) < 120, "the alarm clears within two minutes of the flow recovering"
