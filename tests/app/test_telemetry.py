import numpy as np

from acquisition.channels import N_CHANNELS
from app.telemetry import TelemetryAggregator


def test_minute_aggregates_skip_bad_values_and_roll_over() -> None:
    agg = TelemetryAggregator()
    out = []
    for t in range(120, 241):  # two full minutes and the first sample of a third
        v = np.full(N_CHANNELS, float(t))
        v[3] = np.nan if t % 2 else t  # pressure not good on odd seconds
        v[7] = np.nan  # flow never good
        body = agg.add("P-1", float(t), v, score=t / 100 if t < 200 else None, regime="running")
        if body:
            out.append(body)
    assert [b["minute_ts"] for b in out] == [120.0, 180.0]
    first = out[0]
    assert first["n"] == 60 and first["mean"][0] == sum(range(120, 180)) / 60
    assert first["min"][0] == 120 and first["max"][0] == 179
    assert first["mean"][3] == sum(range(120, 180, 2)) / 30
    assert first["mean"][7] is None and first["max"][7] is None
    assert first["score_max"] == 1.79 and out[1]["score_max"] == 1.99
