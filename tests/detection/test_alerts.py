from __future__ import annotations

import numpy as np

from detection.alerts import AlertEnded, AlertParams, AlertRule, AlertStarted, AlertTransition
from detection.timing import Span


def feed(rule: AlertRule, scores: list[float | None], t0: float = 0.0) -> list[tuple[float, AlertTransition]]:
    out: list[tuple[float, AlertTransition]] = []
    for i, s in enumerate(scores):
        contrib = np.zeros(8)
        contrib[7] = 1.0
        tr = rule.update(t0 + i, s, contrib)
        if tr is not None:
            out.append((t0 + i, tr))
    return out


def test_min_duration_and_hysteresis() -> None:
    rule = AlertRule(AlertParams(threshold=1.0, clear_ratio=0.7, min_duration=Span(3, 1)))
    got = feed(rule, [0.2, 1.2, 1.1, 0.9, 1.5, 1.5, 1.5, 1.5, 0.8, 0.75, 0.6, 0.2])
    assert [type(t) for _, t in got] == [AlertStarted, AlertEnded]
    start_ts, start = got[0]
    end = got[1][1]
    assert isinstance(start, AlertStarted) and isinstance(end, AlertEnded)
    assert start_ts == 7  # the dip to 0.9 restarted the 3 s wait begun at t=4
    assert got[1][0] == 10  # 0.8 and 0.75 are inside the hysteresis band; 0.6 clears
    assert start.top_channels == (("flow", 1.0),)
    assert end.peak_score == 1.5


def test_retrip_within_window_is_a_reactivation_and_outside_is_new() -> None:
    rule = AlertRule(AlertParams(min_duration=Span(0, 1), dedup_window=Span(300, 0)))
    first = feed(rule, [2.0, 0.1])
    again = feed(rule, [2.0, 0.1], t0=100)
    later = feed(rule, [2.0, 0.1], t0=1000)
    for out, reactivation in ((first, False), (again, True), (later, False)):
        start = out[0][1]
        assert isinstance(start, AlertStarted) and start.reactivation is reactivation


def test_no_score_ends_an_active_condition() -> None:
    rule = AlertRule(AlertParams(min_duration=Span(0, 1)))
    got = feed(rule, [2.0, 2.0, None])
    assert isinstance(got[-1][1], AlertEnded)
    assert rule.active is False
