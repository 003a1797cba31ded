from __future__ import annotations

import numpy as np

from app.live import LiveBuffer


def test_ring_returns_only_newer_rows_in_order_across_the_wrap() -> None:
    buf = LiveBuffer(capacity=10)
    for t in range(25):
        buf.append("P-1", float(t), np.full(8, t), None if t % 2 else float(t))
    ts, values, scores = buf.since("P-1", 17.0)
    assert ts.tolist() == [18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0]
    assert values[:, 0].tolist() == ts.tolist()
    assert np.isnan(scores[1]) and scores[0] == 18.0
    assert buf.since("P-1", 3.0)[0].tolist() == [float(t) for t in range(15, 25)]  # only what the ring still holds
    assert buf.since("P-1", 24.0)[0].size == 0
    assert buf.window("P-1", 2)[0].tolist() == [22.0, 23.0, 24.0]
    latest = buf.latest("P-1")
    assert latest is not None
    ts_latest, v, score = latest
    assert ts_latest == 24.0 and v[0] == 24 and score == 24.0
    assert buf.latest("nope") is None and buf.since("nope", 0)[0].size == 0
