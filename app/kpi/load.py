"""The alarm-load KPIs from the activations' arrays, in numpy: the rate and its 10-minute series, floods, bad actors,
chattering and the priority split. Pure functions (no database), so each definition is tested on its own.

Two ways of cutting time into 10 minutes, each where the standards use it:
- FIXED periods from the range start (``start + k*600``) for the rate series, the shares of periods above 1, 2
  and 10, and the peak period (the ISA-18.2 performance table counts periods);
- a SLIDING window for the flood state (a flood starts when the count in the 10 minutes up to a moment exceeds
  10, ends when it falls below 5) and the sliding peak, so a burst split by a period boundary is still seen.
"""
from __future__ import annotations

import math

import numpy as np

from app.alarm_model import Priority
from app.kpi.model import (
    CHATTER_COUNT,
    CHATTER_WINDOW_S,
    FLOOD_END,
    FLOOD_START,
    PERIOD_S,
    PRIORITY_TARGET,
    TOP_N,
    AlarmRate,
    AlarmSource,
    BadActor,
    BadActors,
    ChatteringKpi,
    ChatteringSource,
    FloodKpi,
    FloodPeriod,
    PriorityShare,
    RateSeries,
)


def period_counts(ts: np.ndarray, start: float, end: float) -> np.ndarray:
    """Activations per fixed 10-minute period of ``[start, end)`` (``ts`` inside the range)."""
    n = max(1, math.ceil((end - start) / PERIOD_S))
    k = np.minimum(((ts - start) // PERIOD_S).astype(np.int64), n - 1)
    return np.bincount(k, minlength=n)


def sliding_peak(ts: np.ndarray) -> int:
    """The most activations in any 10 minutes ``[t, t+600)`` (``ts`` sorted)."""
    if ts.size == 0:
        return 0
    return int((np.searchsorted(ts, ts + PERIOD_S, side="left") - np.arange(ts.size)).max())


def alarm_rate(ts: np.ndarray, raised: int, held: int, start: float, end: float) -> AlarmRate:
    counts = period_counts(ts, start, end)
    return AlarmRate(
        activations=int(ts.size), alarms_raised=raised, held_activations=held, periods=int(counts.size),
        mean_per_10min=float(ts.size / ((end - start) / PERIOD_S)),
        share_above_1=float((counts > 1).mean()), share_above_2=float((counts > 2).mean()),
        peak_10min=int(counts.max()), peak_sliding_10min=sliding_peak(ts),
        series=RateSeries(start, PERIOD_S, tuple(int(c) for c in counts)))


def _window_counts(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sliding count N(t) = activations in ``(t-600, t]`` as a step function: the times it changes and its
    value from each of them on (an activation counts from its time until 600 s later)."""
    times = np.concatenate([ts, ts + PERIOD_S])
    delta = np.concatenate([np.ones(ts.size, np.int64), -np.ones(ts.size, np.int64)])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(delta[order])
    last = np.r_[times[1:] != times[:-1], True]  # the value after every change at the same instant
    return times[last], level[last]


def flood_kpi(ts: np.ndarray, start: float, end: float, counts: np.ndarray) -> FloodKpi:
    """``ts``: sorted activations from a lead-in before ``start`` (so a flood already running is seen) to ``end``;
    ``counts``: the fixed-period counts of the range."""
    over_10 = float((counts > FLOOD_START).mean())
    if ts.size == 0:
        return FloodKpi(0.0, 0.0, over_10, ())
    times, level = _window_counts(ts)
    # The hysteresis without a loop: each step says "flood" (> 10), "no flood" (< 5) or "as before" (5..10);
    # carry the last decisive step forward.
    mark = np.where(level > FLOOD_START, 1, np.where(level < FLOOD_END, -1, 0))
    decisive = np.where(mark != 0, np.arange(mark.size), -1)
    last = np.maximum.accumulate(decisive)
    flooding = (last >= 0) & (mark[np.maximum(last, 0)] == 1)
    edges = np.diff(np.r_[0, flooding.astype(np.int8), 0])
    begins, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # ends[i]: first step not in flood
    floods: list[FloodPeriod] = []
    flood_s = 0.0
    for b, e in zip(begins, ends, strict=True):  # one pass per flood, not per activation
        t0, t1 = float(times[b]), float(times[e])
        if t1 <= start or t0 >= end:
            continue
        inside = int(np.searchsorted(ts, t1, "left") - np.searchsorted(ts, t0, "left"))
        floods.append(FloodPeriod(t0, t1, int(level[b:e].max()), inside))
        flood_s += min(t1, end) - max(t0, start)
    return FloodKpi(flood_s / (end - start), flood_s, over_10, tuple(floods))


def bad_actors(source: np.ndarray, sources: tuple[AlarmSource, ...]) -> BadActors:
    total = int(source.size)
    per = np.bincount(source, minlength=len(sources))
    order = np.lexsort((np.arange(per.size), -per))[:TOP_N]  # most first; ties in source order
    top = tuple(BadActor(sources[i], int(per[i]), float(per[i] / total)) for i in order if per[i] > 0)
    return BadActors(top, sum(b.activations for b in top) / total if total else 0.0, int((per > 0).sum()))


def chattering(ts: np.ndarray, source: np.ndarray, sources: tuple[AlarmSource, ...], start: float, end: float
               ) -> ChatteringKpi:
    """Per source, the most activations within any 60 s; chattering when that is 3 or more."""
    if ts.size == 0:
        return ChatteringKpi((), 0)
    span = (end - start) + 2 * CHATTER_WINDOW_S  # one source's times never reach into the next one's
    key = source.astype(np.float64) * span + (ts - start)
    order = np.argsort(key, kind="stable")
    key, src = key[order], source[order]
    within = np.searchsorted(key, key + CHATTER_WINDOW_S, side="right") - np.arange(key.size)
    peak = np.zeros(len(sources), np.int64)
    np.maximum.at(peak, src, within)
    per = np.bincount(source, minlength=len(sources))
    chatty = np.flatnonzero(peak >= CHATTER_COUNT)
    found = tuple(ChatteringSource(sources[i], int(per[i]), int(peak[i])) for i in chatty)
    return ChatteringKpi(found, int(per[chatty].sum()))


def priority_split(rank: np.ndarray, raised: np.ndarray) -> tuple[PriorityShare, ...]:
    per = np.bincount(rank, minlength=4)
    new = np.bincount(rank[raised], minlength=4)
    total = int(rank.size)
    return tuple(PriorityShare(p, int(new[p.rank]), int(per[p.rank]), float(per[p.rank] / total) if total else None,
                               PRIORITY_TARGET[p]) for p in Priority)


__all__ = ["alarm_rate", "bad_actors", "chattering", "flood_kpi", "period_counts", "priority_split", "sliding_peak"]
