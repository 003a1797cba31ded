"""Signal-quality watch: turns per-channel quality on frames into diagnostic alarms (not anomaly alarms).

Two conditions per asset, each with its own delay so a single late poll is not an alarm:
- "comm":   the asset's device is not communicating (no configured channel GOOD; comm-fail or stale);
- "signal": one or more configured channels BAD, STALE or NO_VALUE while the device still answers (a broken
            4-20 mA loop, a value out of range, a logger flagging its sensor, a mapped channel never sent).
Runs on the detection thread, in frame (source) time.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from acquisition.channels import CHANNELS
from acquisition.quality import QUALITY_TEXT, Quality, device_lost

# (asset, key, active, ts, message)
DiagnosticSink = Callable[[str, str, bool, float, str], None]


class _AssetWatch:
    __slots__ = ("lost_since", "bad_since", "comm_on", "signal_on")

    def __init__(self) -> None:
        self.lost_since: float | None = None
        self.bad_since: float | None = None
        self.comm_on = False
        self.signal_on = False


class QualityWatch:
    def __init__(self, sink: DiagnosticSink, comm_after_s: float = 5.0, bad_after_s: float = 10.0) -> None:
        self._sink = sink
        self._comm_after = comm_after_s
        self._bad_after = bad_after_s
        self._assets: dict[str, _AssetWatch] = {}

    def update(self, asset: str, ts: float, quality: np.ndarray | None) -> None:
        w = self._assets.get(asset)
        if w is None:
            if quality is None:
                return  # a source without quality (simulator, replay): nothing to watch
            w = self._assets[asset] = _AssetWatch()
        lost = device_lost(quality)
        if lost and quality is not None:  # (device_lost(None) is False)
            w.lost_since = ts if w.lost_since is None else w.lost_since
            if not w.comm_on and ts - w.lost_since >= self._comm_after:
                w.comm_on = True
                words = sorted({QUALITY_TEXT[int(c)] for c in quality if c != Quality.NOT_CONFIGURED})
                self._sink(asset, "comm", True, ts, f"{asset}: communication lost ({', '.join(words)})")
        else:
            w.lost_since = None
            if w.comm_on:
                w.comm_on = False
                self._sink(asset, "comm", False, ts, f"{asset}: communication restored")
        bad = () if lost or quality is None else tuple(
            f"{CHANNELS[i]} {QUALITY_TEXT[int(c)]}" for i, c in enumerate(quality)
            if c in (Quality.BAD, Quality.STALE, Quality.NO_VALUE))
        if bad:
            w.bad_since = ts if w.bad_since is None else w.bad_since
            if not w.signal_on and ts - w.bad_since >= self._bad_after:
                w.signal_on = True
                self._sink(asset, "signal", True, ts, f"{asset}: bad signal quality ({', '.join(bad)})")
        else:
            w.bad_since = None
            if w.signal_on and not lost:  # during a comm loss the signal condition is unknown: keep it
                w.signal_on = False
                self._sink(asset, "signal", False, ts, f"{asset}: signal quality good again")
