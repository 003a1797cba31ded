"""Per-channel signal quality, carried with every frame (OPC-style: good / stale / bad / comm-fail / no value).

A value whose quality is not GOOD is never used as if it were good: the engine feeds NaN to the detector in its
place, the store keeps the code beside the value, and the HMI shows the quality instead of a plain number. The
field sources decide a channel's quality by one rule (:mod:`acquisition.held_values`).
"""
from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from acquisition.channels import N_CHANNELS


class Quality(IntEnum):
    GOOD = 0
    STALE = 1       # no fresh value within N poll intervals (or a Sparkplug node died)
    BAD = 2         # out of range, NaN, a decoding error, or the peer flagged it bad
    COMM_FAIL = 3   # the device does not answer / the connection is down
    NOT_CONFIGURED = 4  # the source has no mapping for this channel
    NO_VALUE = 5    # configured, but nothing has arrived since start (OPC UA Bad_WaitingForInitialData)


QUALITY_TEXT: dict[int, str] = {q.value: q.name.lower().replace("_", "-") for q in Quality}


def implausible(value: float, low: float, high: float, what: str = "plausible range") -> str | None:
    """Why ``value`` cannot be a GOOD reading (NaN, infinite, outside [low, high]), or None when it can.
    Field sources turn a reason into Quality.BAD: an implausible value is bad data, never physics."""
    if not math.isfinite(value):
        return f"{value} is not a finite number"
    if not low <= value <= high:
        return f"{value:g} is outside the {what} {low:g}..{high:g}"
    return None


def all_good() -> np.ndarray:
    return np.zeros(N_CHANNELS, dtype=np.uint8)


def filled(q: Quality) -> np.ndarray:
    return np.full(N_CHANNELS, int(q), dtype=np.uint8)


def usable(values: np.ndarray, quality: np.ndarray | None) -> np.ndarray:
    """The values the detector may use: anything not GOOD becomes NaN."""
    if quality is None:
        return values
    return np.where(quality == Quality.GOOD, values, np.nan)


def device_lost(quality: np.ndarray | None) -> bool:
    """True when no configured channel is GOOD and at least one is COMM_FAIL, STALE or NO_VALUE: the asset is not
    communicating (or has never reported), so the frame says nothing about the process (no scoring, a diagnostic
    alarm instead). All BAD is not a loss: the device answers, with values that are wrong."""
    if quality is None:
        return False
    configured = quality != Quality.NOT_CONFIGURED
    if not configured.any():
        return False
    q = quality[configured]
    silent = (q == Quality.COMM_FAIL) | (q == Quality.STALE) | (q == Quality.NO_VALUE)  # nothing current arrives
    return not (q == Quality.GOOD).any() and bool(silent.any())
