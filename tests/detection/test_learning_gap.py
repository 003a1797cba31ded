"""A gap in the data inside a learning window (a replay with a time jump, a logger that was off) must not break
the pipeline: the window that holds almost nothing after its warm-up is not fitted, learning starts again
(issue 9, defect 6: a CSV with a time jump gave "shape mismatch" in detection)."""
from __future__ import annotations

import pytest

from acquisition.simulator import PumpStation, StationConfig
from detection.pipeline import AssetPipeline


@pytest.mark.parametrize("before_gap", [1, 3, 100, 250])
def test_a_gap_inside_the_first_learning_window_is_survived(before_gap: int) -> None:
    run = PumpStation(StationConfig(n_pumps=1, seed=2, schedule=False)).simulate(before_gap + 700)
    pipe = AssetPipeline()
    commissioned_at = None
    scored = 0
    for k, (ts, row) in enumerate(zip(run.ts, run.values[:, 0], strict=True)):
        t = float(ts) + (86400.0 if k >= before_gap else 0.0)  # one day missing after the first samples
        out = pipe.process(t, row)
        commissioned_at = k if out.commissioned else commissioned_at
        scored += out.score is not None
    assert pipe.fit_error is None
    assert commissioned_at is not None, "the pump was never commissioned after the gap"
    assert pipe.baseline_samples >= pipe.p.model.folds
    assert scored > 0
