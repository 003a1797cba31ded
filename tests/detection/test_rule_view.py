"""The score the HMI draws (detection.alerts.held_score) is the one the alert rule acts on, for any score stream.

The tile's trace must cross the threshold exactly where :class:`AlertRule` raises and fall below the clear level
exactly where it clears, or the picture would again disagree with the alarm (issue 12, item 3). Checked against the
real rule over generated streams: spikes, long runs, missing scores, regular and irregular sampling.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from detection.alerts import AlertEnded, AlertParams, AlertRule, AlertStarted, held_score
from detection.timing import Span

# exact binary fractions: ts - min_s and ts[i] - ts[p] are computed without rounding on both sides
PERIODS = st.sampled_from([0.5, 1.0, 2.0])
SCORES = st.one_of(st.sampled_from([0.1, 0.4, 0.7, 1.0, 1.3, 2.0, 5.0, float("nan")]),
                   st.floats(0.0, 6.0, allow_nan=False))


@given(scores=st.lists(SCORES, min_size=1, max_size=160), dts=st.lists(PERIODS, min_size=160, max_size=160),
       min_s=st.sampled_from([0.0, 3.0, 8.0, 20.0]), min_n=st.integers(1, 12))
def test_held_score_crosses_where_the_rule_raises_and_clears(scores: list[float], dts: list[float], min_s: float,
                                                             min_n: int) -> None:
    params = AlertParams(threshold=1.25, clear_ratio=0.5, min_duration=Span(min_s, min_n))
    ts = np.cumsum(np.array(dts[: len(scores)]))
    values = np.array(scores)
    rule = AlertRule(params, period_s=1.0)
    state = rule.state()  # the rule's own account of its minimum duration, as the HMI gets it
    held = held_score(ts, values, state.min_s, state.min_n)
    for i, (t, v) in enumerate(zip(ts, values, strict=True)):
        was_active = rule.active
        out = rule.update(float(t), None if np.isnan(v) else float(v))
        reached = bool(held[i] >= params.threshold)  # NaN compares False: no run
        if not was_active:
            assert isinstance(out, AlertStarted) == reached, f"sample {i}: rule {out}, held {held[i]}"
        elif isinstance(out, AlertEnded):
            assert not held[i] >= state.clear_level, f"sample {i}: cleared, held {held[i]}"
        else:
            assert held[i] >= state.clear_level, f"sample {i}: still active, held {held[i]}"


def test_the_rule_state_says_how_far_a_run_has_got() -> None:
    rule = AlertRule(AlertParams(threshold=1.0, min_duration=Span(20.0, 10)), period_s=1.0)
    for t in range(5):
        rule.update(float(t), 0.2)
    for t in range(5, 10):
        rule.update(float(t), 1.5)
    s = rule.state()
    assert (s.active, s.above_n, s.above_s, s.min_s, s.min_n) == (False, 5, 4.0, 20.0, 10)
    assert s.progress_text() == "above threshold 4 of 20 s"
    for t in range(10, 40):
        rule.update(float(t), 1.5)
    assert rule.state().active and rule.state().progress_text() == ""
