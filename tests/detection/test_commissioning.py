"""Commissioning that knows when its baseline is not normal (issue 10, item 2), and says why and how far."""
from __future__ import annotations

import numpy as np
import pytest

from acquisition.channels import CURRENT, FLOW, PRESSURE, VIB_DE, VIB_NDE
from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from detection.alerts import AlertStarted
from detection.commissioning import LearningProgress, LearningWindow, Row
from detection.pipeline import AssetPipeline, PipelineParams
from detection.timing import Span


def steady(period: float = 1.0, hours: float = 2.0, seed: int = 3, faults=()):
    station = PumpStation(StationConfig(n_pumps=1, seed=seed, sample_period_s=period, schedule=False), faults=faults)
    run = station.simulate(hours * 3600)
    return run.ts, run.values[:, 0].copy()


def feed(pipe: AssetPipeline, ts: np.ndarray, values: np.ndarray) -> list:
    return [pipe.process(float(t), v) for t, v in zip(ts, values, strict=True)]


def test_the_progress_reads_as_the_operator_sees_it() -> None:
    assert LearningProgress(37, 120, "flow unsteady").text() == "Learning normal: 37 of 120 samples; flow unsteady"
    assert LearningProgress(5, 120).text() == "Learning normal: 5 of 120 samples"


def test_a_swinging_flow_is_not_learnt_as_normal_and_the_fault_after_it_is_found() -> None:
    """Flow swinging by +-60 % for the first hour: learning goes on (and says why) until the pump is steady; a
    model learnt on the swing would call cavitation normal."""
    ts, values = steady(hours=2.5, faults=[FaultSpec("P-101", FaultKind.CAVITATION, 2 * 3600)])
    t = ts - ts[0]
    swing = t < 3600
    values[swing, FLOW] *= 1 + 0.6 * np.sin(2 * np.pi * t[swing] / 600)
    pipe = AssetPipeline()
    out = feed(pipe, ts[swing], values[swing])
    assert not pipe.commissioned
    progress = pipe.learning_progress()
    assert progress is not None and progress.reason == "flow unsteady", progress
    assert progress.text().startswith("Learning normal: ") and progress.needed == 180
    out += feed(pipe, ts[~swing], values[~swing])
    assert pipe.commissioned and pipe.learning_progress() is None
    alarms = [t[i] for i, o in enumerate(out) if isinstance(o.transition, AlertStarted)]
    assert alarms and alarms[0] >= 2 * 3600, f"alarms at {alarms}"


@pytest.mark.parametrize("channel, spoil, reason", [
    (FLOW, "flat", "flow flat"),
    (PRESSURE, "missing", "pressure missing"),
    (VIB_DE, "hunting", "vib_de unsteady"),
])
def test_a_baseline_with_a_bad_channel_is_refused_with_the_reason(channel: int, spoil: str, reason: str) -> None:
    ts, values = steady(hours=0.5)
    t = ts - ts[0]
    if spoil == "flat":
        values[:, channel] = values[0, channel]  # a stuck transmitter
    elif spoil == "missing":
        values[np.random.default_rng(1).random(len(ts)) < 0.3, channel] = np.nan
    else:
        values[:, channel] *= np.where((t // 120) % 2 == 0, 0.7, 1.3)  # hunting between two levels
    pipe = AssetPipeline()
    feed(pipe, ts, values)
    assert not pipe.commissioned
    assert pipe.learning_progress().reason == reason  # type: ignore[union-attr]


def test_a_channel_that_is_not_measured_at_all_does_not_hold_commissioning_up() -> None:
    ts, values = steady(hours=0.5)
    values[:, [VIB_DE, VIB_NDE]] = np.nan  # this pump has no vibration sensors
    pipe = AssetPipeline()
    feed(pipe, ts, values)
    assert pipe.commissioned


def test_learning_carries_on_across_visits_to_the_same_state() -> None:
    """At one sample a minute a window needs two hours; a stop after one hour keeps what was learnt, and the next
    visit to the same operating state finishes it."""
    ts, values = steady(period=60.0, hours=4.0)
    t = ts - ts[0]
    stop = (t >= 3600) & (t < 3600 + 1200)
    values[stop, CURRENT] = 0.02
    values[stop, FLOW] = 0.0
    values[stop, VIB_DE] = values[stop, VIB_NDE] = 0.06
    pipe = AssetPipeline(PipelineParams(sample_period_s=60.0))
    feed(pipe, ts[t < 3600 + 600], values[t < 3600 + 600])
    assert not pipe.commissioned
    assert pipe.learning_progress().samples > 30  # type: ignore[union-attr]
    rest = t >= 3600 + 600
    out = feed(pipe, ts[rest], values[rest])
    assert pipe.commissioned, pipe.learning_progress()
    assert pipe.baseline_samples >= 120
    done_at = t[rest][next(i for i, o in enumerate(out) if o.commissioned)]
    assert done_at - (3600 + 1200) < 100 * 60, "finished well before the second visit alone held 120 samples"


def test_a_window_keeps_its_newer_half_when_refused() -> None:
    window = LearningWindow(Span(300.0, 120), Span(0.0, 0), 1.0)
    window.start(0.0)
    rng = np.random.default_rng(0)
    raw = np.tile([2.2, 1.6, 16.0, 5.5, 60.0, 20.0, 400.0, 50.0], (400, 1))
    raw[:, FLOW] *= 1 + 0.5 * np.sin(np.arange(400) / 20)
    adopted = None
    for i in range(400):
        row = Row(float(i), np.zeros(15), np.zeros(2), 16.0, raw[i] * (1 + 0.001 * rng.standard_normal(8)),
                  np.zeros(8, bool))
        adopted = window.add(row) or adopted
    assert adopted is None and window.reason == "flow unsteady"
    assert 0 < len(window.rows) < 300, "the older half went"
