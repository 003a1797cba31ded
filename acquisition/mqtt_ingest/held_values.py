"""Sample-and-hold: the latest value of every (asset, channel) with its quality and age, turned into one frame per
asset per period.

MQTT publishers send when they like (a logger every few seconds, a Sparkplug node on change); the engine wants one
frame per asset per period. Each period the latest value of each channel is repeated with a quality that says how
far to trust it:

- NOT_CONFIGURED: the ingest map gives this asset no source for the channel;
- COMM_FAIL: the broker connection is down (every configured channel);
- STALE: no value yet, none fresh within the channel's stale time, the publisher flagged it stale, or its
  Sparkplug node/device died (until its next BIRTH or DATA);
- BAD: the publisher flagged it bad, or it was null, NaN, of the wrong type or out of range;
- GOOD otherwise. A value that is not GOOD is NaN in the frame.

Thread-safe: paho's network thread writes, the source thread reads once per period.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from acquisition.channels import N_CHANNELS
from acquisition.quality import Quality
from acquisition.source import Frame


class _AssetState:
    __slots__ = ("values", "quality", "ts", "arrived", "configured", "stale_s", "dead")

    def __init__(self) -> None:
        self.values = np.full(N_CHANNELS, np.nan)
        self.quality = np.full(N_CHANNELS, int(Quality.STALE), dtype=np.uint8)
        self.ts = np.full(N_CHANNELS, -math.inf)            # the publisher's timestamp, for ordering
        self.arrived = np.full(N_CHANNELS, -math.inf)       # monotonic arrival time, for freshness
        self.configured = np.zeros(N_CHANNELS, dtype=bool)
        self.stale_s = np.full(N_CHANNELS, math.inf)
        self.dead = np.zeros(N_CHANNELS, dtype=bool)


class HeldValues:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assets: dict[str, _AssetState] = {}

    def configure(self, asset: str, channel: int, stale_s: float) -> None:
        """Declare that ``asset`` gets ``channel`` from some source; it is STALE until a value arrives."""
        with self._lock:
            st = self._assets.get(asset)
            if st is None:
                st = self._assets[asset] = _AssetState()
            st.configured[channel] = True
            st.stale_s[channel] = stale_s

    def known(self, asset: str) -> bool:
        with self._lock:
            return asset in self._assets

    def assets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._assets)

    def update(self, asset: str, channel: int, value: float, quality: Quality, now: float,
               ts: float | None = None) -> bool:
        """Hold a new value (NaN unless GOOD); False (and nothing changed) when ``ts`` is older than the held
        value's, i.e. the message arrived out of order. The asset/channel must have been configured."""
        with self._lock:
            st = self._assets[asset]
            if ts is not None:
                if ts < st.ts[channel]:
                    return False
                st.ts[channel] = ts
            st.values[channel] = value if quality == Quality.GOOD else np.nan
            st.quality[channel] = int(quality)
            st.arrived[channel] = now
            st.dead[channel] = False
            return True

    def mark_dead(self, asset: str, channels: list[int] | None = None) -> None:
        """The publisher is gone (Sparkplug NDEATH/DDEATH): STALE until the next value arrives."""
        with self._lock:
            st = self._assets.get(asset)
            if st is None:
                return
            if channels is None:
                st.dead[:] = True
            else:
                st.dead[channels] = True

    def frames(self, ts: float, now: float, connected: bool) -> list[Frame]:
        """One frame per asset at wall time ``ts``; ``now`` is the monotonic clock the arrivals were stamped with."""
        out = []
        with self._lock:
            for asset, st in self._assets.items():
                q = st.quality.copy()
                q[(now - st.arrived) > st.stale_s] = Quality.STALE
                q[st.dead] = Quality.STALE
                if not connected:
                    q[:] = Quality.COMM_FAIL
                q[~st.configured] = Quality.NOT_CONFIGURED
                values = np.where(q == Quality.GOOD, st.values, np.nan)
                out.append(Frame(asset, ts, values, q))
        return out
