"""Stored history, peak-decimated for the trends: a channel that was never good in a bucket is NaN there (a gap),
with no numpy warning; spikes survive; at most ``max_points`` rows come back."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from sqlalchemy import insert

from acquisition.channels import INDEX, N_CHANNELS
from app.store import schema
from app.store.database import open_database
from app.store.history import sample_history


def test_a_bucket_where_a_channel_was_never_good_is_nan_and_raises_no_warning(tmp_path: Path) -> None:
    n = 1000
    values = np.tile(np.arange(N_CHANNELS, dtype=float), (n, 1))
    values[:, INDEX["flow"]] = np.nan  # a channel that never had a good value (quality not good: stored as NaN)
    values[:300, INDEX["pressure"]] = np.nan  # one that had none in the first buckets only
    values[500, INDEX["current"]] = 99.0  # a one-sample spike
    scores = np.full(n, 0.2)
    scores[:300] = np.nan  # not scored while the device was lost
    db = open_database(tmp_path / "v.db")
    try:
        with db.begin() as c:
            c.execute(insert(schema.samples), [
                {"asset": "P-1", "ts": float(i), "values": values[i].astype("<f8").tobytes(),
                 "score": None if np.isnan(scores[i]) else float(scores[i]), "regime": "running"} for i in range(n)])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "All-NaN slice encountered" must not happen, whatever -W says
            ts, got, got_scores = sample_history(db, "P-1", 0, n, max_points=100)
    finally:
        db.dispose()
    assert len(ts) <= 100 and got.shape == (len(ts), N_CHANNELS) and got_scores.shape == ts.shape
    assert np.isnan(got[:, INDEX["flow"]]).all()
    pressure = got[:, INDEX["pressure"]]
    early = ts < 290
    assert np.isnan(pressure[early]).all() and (pressure[ts >= 300] == INDEX["pressure"]).all()
    assert np.nanmax(got[:, INDEX["current"]]) == 99.0
    assert np.isnan(got_scores[early]).all() and (got_scores[ts >= 300] == 0.2).all()


def _reference(values: np.ndarray, edges: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket and channel: min and max of the non-NaN samples (NaN when there are none), by plain loops."""
    lo, hi = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        col_lo, col_hi = [], []
        for c in range(values.shape[1]):
            seg = values[a:b, c]
            seg = seg[~np.isnan(seg)]
            col_lo.append(seg.min() if len(seg) else np.nan)
            col_hi.append(seg.max() if len(seg) else np.nan)
        lo.append(col_lo)
        hi.append(col_hi)
    return np.array(lo), np.array(hi)


@given(values=hnp.arrays(float, st.tuples(st.integers(1, 300), st.just(3)),
                         elements=st.one_of(st.just(np.nan), st.floats(-1e6, 1e6))),
       max_points=st.integers(1, 120))
def test_decimation_keeps_each_buckets_extremes_and_nan_where_nothing_was_good(values: np.ndarray,
                                                                               max_points: int) -> None:
    from app.peaks import decimate_peaks

    n = len(values)
    ts = np.arange(n, dtype=float)
    scores = values[:, 0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out_t, out_v, out_s = decimate_peaks(ts, values, scores, max_points)
    if n <= max_points:  # nothing to reduce: the samples as they are
        assert out_t is ts and out_v is values and out_s is scores
        return
    assert len(out_t) <= max(max_points, 2) and len(out_t) % 2 == 0
    assert np.all(np.diff(out_t) >= 0)
    firsts = out_t[0::2].astype(int)
    edges = [*firsts.tolist(), n]
    lo, hi = _reference(values, edges)
    np.testing.assert_array_equal(out_v[0::2], lo)
    np.testing.assert_array_equal(out_v[1::2], hi)
    np.testing.assert_array_equal(out_s[0::2], hi[:, 0])
    np.testing.assert_array_equal(out_s[1::2], hi[:, 0])
    assert firsts[0] == 0 and np.all(np.diff(edges) > 0)
