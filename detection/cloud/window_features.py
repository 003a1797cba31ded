"""Features of one alarm window (300 s of 1 Hz signals up to the edge's raise), for the cloud models.

The cloud knows nothing about the pump (no commissioning baseline, no operating states), so every feature
compares the end of the window with a reference taken from the window itself: how far each channel's level
moved (relative, and in units of the channel's own noise in the reference), whether its noise grew or collapsed,
how much of it is missing, how the temperatures' rates changed.

The reference is the window's early part, unless the pump changed speed inside the window (a set-point change,
a start, a stop): then it is the steady stretch after that transition. Comparing across a speed change would
make every set-point change look like a fault (all channels move), and the edge's hardest false alarms come
shortly after exactly such changes. A transition is recognised the way the edge does it: current, flow and
discharge pressure all move the same way by several per cent within seconds; a developing fault does not.

Robust to NaN (a dropped-out sensor): medians ignore missing values, a segment with nothing in it contributes a
neutral 0 and the missing fraction says so. The edge's own score is deliberately not used: the cloud is a second
opinion.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from acquisition.channels import CHANNELS, CURRENT, FLOW, FLUID_TEMP, MOTOR_TEMP, PRESSURE

WINDOW_S = 300.0
REFERENCE_S = 120.0  # the longest reference used
LATE = (-25.0, 0.0)  # most faults are caught 25-90 s after onset, so their signature is in here
MIDDLE_START = -90.0
MIN_REFERENCE_S = 20.0  # less steady data than this before LATE: the window ends in a transition
MISSING_SPAN = (-90.0, 0.0)
TRANSITION_STEP = 0.04  # log-change over TRANSITION_LAG_S that counts as a speed change, per channel
TRANSITION_LAG_S = 10
TRANSITION_GUARD_S = 15.0  # after the last moving sample, before the reference may start
FEATURE_CLIP = 30.0  # no feature beyond this: one wild channel must not swamp everything else

# Floors in channel units (CHANNELS order): a level below LEVEL_FLOOR is "about zero" (a stopped pump), a noise
# below NOISE_FLOOR is a quantisation-level difference that must not look like a collapse or an explosion.
LEVEL_FLOOR = np.array([0.3, 0.3, 1.0, 0.2, 5.0, 5.0, 20.0, 2.0])
NOISE_FLOOR = np.array([0.02, 0.02, 0.02, 0.003, 0.02, 0.01, 0.1, 0.03])
# Slow wander that sample-to-sample noise does not show (supply voltage, ambient), added to a shift's error so
# that a few minutes of it is not a "significant" move.
WANDER = np.array([0.0, 0.0, 0.0, 0.0, 0.05, 0.05, 0.4, 0.0])
_TEMPS = (MOTOR_TEMP, FLUID_TEMP)
_SPEED_CHANNELS = (CURRENT, FLOW, PRESSURE)

FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"{c}.shift_late" for c in CHANNELS)
    + tuple(f"{c}.shift_mid" for c in CHANNELS)
    + tuple(f"{c}.t_late" for c in CHANNELS)
    + tuple(f"{c}.t_mid" for c in CHANNELS)
    + tuple(f"{c}.spread_late" for c in CHANNELS)
    + tuple(f"{c}.spread_recent" for c in CHANNELS)
    + tuple(f"{c}.missing" for c in CHANNELS)
    + ("transition.age", "transition.at_end")
)
# The statistics whose spread in normal windows does not depend on segment lengths (t-like: a difference over
# its own sampling error): what the autoencoder judges "normal" on. The classifier also gets the relative shifts,
# whose proportions tell one fault from another.
NORMALISED_FEATURES: tuple[str, ...] = tuple(
    n for n in FEATURE_NAMES if n.split(".")[1] in ("t_late", "t_mid", "spread_late", "spread_recent", "missing")
    or n.startswith("transition."))
N_FEATURES = len(FEATURE_NAMES)


def _slog(x: np.ndarray) -> np.ndarray:
    """Signed log: linear near 0, logarithmic for the huge ratios of a start-up, never infinite."""
    out: np.ndarray = np.sign(x) * np.log1p(np.abs(x))
    return out


def _nanmedian(a: np.ndarray) -> np.ndarray:
    """Column medians; NaN for a column with no finite value (without numpy's all-NaN warning)."""
    out = np.full(a.shape[1], np.nan)
    for j in range(a.shape[1]):
        col = a[:, j]
        col = col[np.isfinite(col)]
        if col.size:
            out[j] = np.median(col)
    return out


def _noise(a: np.ndarray) -> np.ndarray:
    """Per column: robust noise scale from successive differences (immune to slow trends and ramps)."""
    out = np.full(a.shape[1], np.nan)
    if a.shape[0] < 4:
        return out
    d = np.diff(a, axis=0)
    for j in range(a.shape[1]):
        col = d[:, j]
        col = col[np.isfinite(col)]
        if col.size >= 3:
            out[j] = 1.4826 * np.median(np.abs(col - np.median(col))) / np.sqrt(2.0)
    return out


def _forward_filled(col: np.ndarray) -> np.ndarray:
    ok = np.isfinite(col)
    if not ok.any():
        return np.zeros_like(col)
    idx = np.where(ok, np.arange(len(col)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = col[idx]
    out[: int(np.argmax(ok))] = col[int(np.argmax(ok))]
    return out


def last_transition(rel: np.ndarray, values: np.ndarray) -> float | None:
    """Time (s, relative to the window's end) of the last sample where the pump's speed was visibly changing."""
    n = len(rel)
    if n <= TRANSITION_LAG_S + 5:
        return None
    moves = []
    for c in _SPEED_CHANNELS:
        x = np.log(np.maximum(_forward_filled(values[:, c]), LEVEL_FLOOR[c]))
        m = np.median(sliding_window_view(x, 5), axis=1)  # 5-s median: one spike is not a transition
        d = np.zeros(n)
        d[TRANSITION_LAG_S + 4:] = m[TRANSITION_LAG_S:] - m[:-TRANSITION_LAG_S]
        moves.append(np.where(np.abs(d) > TRANSITION_STEP, np.sign(d), 0.0))
    stacked = np.stack(moves)  # (speed channels, samples)
    up, down = (stacked > 0).sum(axis=0), (stacked < 0).sum(axis=0)
    flagged = np.nonzero((up >= 2) | (down >= 2))[0]
    return float(rel[flagged[-1]]) if flagged.size else None


def _trend(rel: np.ndarray, col: np.ndarray) -> tuple[float, float]:
    """(slope per s, the median time it is anchored at) of a reference segment; flat when too little data."""
    ok = np.isfinite(col)
    if ok.sum() < 10:
        return 0.0, float(np.median(rel)) if rel.size else 0.0
    return float(np.polyfit(rel[ok], col[ok], 1)[0]), float(np.median(rel[ok]))


def window_features(ts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(N_FEATURES,)`` finite float32 features of a window: ``ts`` (N,) seconds, ``values`` (N, 8) with NaN."""
    ts = np.asarray(ts, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    rel = ts - ts[-1]
    n_ch = len(CHANNELS)
    t_tr = last_transition(rel, values)
    start = max(float(rel[0]), -WINDOW_S) if t_tr is None else t_tr + TRANSITION_GUARD_S
    age = 1.0 if t_tr is None else min(-t_tr / WINDOW_S, 1.0)
    missing_seg = values[rel >= MISSING_SPAN[0]]
    missing = np.isnan(missing_seg).mean(axis=0) if missing_seg.shape[0] else np.zeros(n_ch)
    if start > LATE[0] - MIN_REFERENCE_S:
        # The window ends while the speed changes (a stop, a start): nothing steady to compare with.
        out = np.zeros(N_FEATURES)
        out[6 * n_ch: 7 * n_ch] = missing
        out[-2:] = (age, 1.0)
        return out.astype(np.float32)
    ref_end = min(start + REFERENCE_S, LATE[0] - MIN_REFERENCE_S / 2)
    in_ref = (rel >= start) & (rel < ref_end)
    in_mid = (rel >= max(MIDDLE_START, ref_end)) & (rel < LATE[0])
    in_late = rel >= LATE[0]
    ref, mid, late = values[in_ref], values[in_mid], values[in_late]
    ref_level = _nanmedian(ref)
    ref_noise = np.maximum(np.nan_to_num(_noise(ref), nan=0.0), NOISE_FLOOR)
    scale = np.maximum(np.abs(np.nan_to_num(ref_level, nan=0.0)), LEVEL_FLOOR)
    n_ref = np.isfinite(ref).sum(axis=0)

    ref_rel = rel[in_ref]
    trend = [_trend(ref_rel, ref[:, i]) for i in _TEMPS]

    def shift(seg: np.ndarray, seg_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median move from the reference: relative to the level, and over its sampling error (t-like)."""
        if seg.shape[0] == 0:
            return np.zeros(n_ch), np.zeros(n_ch)
        expected = ref_level.copy()
        for i, (slope, at) in zip(_TEMPS, trend, strict=True):
            # Temperatures follow their thermal lag for half an hour after a speed change: compare with where
            # the reference's own trend leads, not with its level.
            expected[i] = ref_level[i] + slope * (float(np.median(seg_rel)) - at)
        d = np.nan_to_num(_nanmedian(seg) - expected, nan=0.0)
        n = np.maximum(np.isfinite(seg).sum(axis=0), 1)
        # 1.25: a median's standard error over a mean's, for Gaussian noise.
        se = np.hypot(1.25 * ref_noise * np.sqrt(1.0 / n + 1.0 / np.maximum(n_ref, 1)), WANDER)
        return d / scale * 10.0, d / se  # x10: a 10 % move is about 1 unit

    def spread(seg: np.ndarray) -> np.ndarray:
        """Log ratio of the noise to the reference's, over its sampling error: > 0 noisier, << 0 flat-lined."""
        ratio = np.nan_to_num(np.log(np.maximum(_noise(seg), NOISE_FLOOR * 0.1) / ref_noise), nan=0.0)
        n = np.maximum(np.isfinite(seg).sum(axis=0), 2)
        t: np.ndarray = ratio / np.sqrt(1.4 / n + 1.4 / np.maximum(n_ref, 2))  # ~1.2/sqrt(n): a MAD's log error
        return t

    rel_late, t_late = shift(late, rel[in_late])
    rel_mid, t_mid = shift(mid, rel[in_mid])
    out = np.concatenate([
        _slog(rel_late), _slog(rel_mid),
        t_late, t_mid,  # linear: clipped below, far beyond what normal windows reach (|t| < ~4)
        spread(late),
        spread(values[in_mid | in_late]),  # longer than LATE alone: a steadier estimate
        missing,
        [age, 0.0],
    ])
    out = np.clip(np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), -FEATURE_CLIP, FEATURE_CLIP)
    return out.astype(np.float32)


def features_batch(windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    if not windows:
        return np.zeros((0, N_FEATURES), np.float32)
    return np.stack([window_features(ts, v) for ts, v in windows])
