"""Sample-and-hold for the field sources (Modbus poller, MQTT ingest): the latest value of every configured
(asset, channel), and the one rule that turns its age, its link and its history into a quality at frame time.

The plant speaks when it is asked (a Modbus poll) or when it likes (an MQTT publisher); the engine wants one frame
per asset per period. Each channel is carried by a *link* - a Modbus device, the MQTT broker connection - and at
each frame it is, the first that applies:

  NOT_CONFIGURED  no link carries this channel for this asset;
  COMM_FAIL       its link is down (a device that stopped answering, a lost broker connection; every link is down
                  until it first answers), or the link has a silence window (Modbus: ``stale_after_polls`` poll
                  intervals) and answered nothing within it while this channel has no fresh value;
  NO_VALUE        nothing has arrived for it since start: it has no value, old or new;
  STALE           its value is older than its stale time, or was marked stale (a Sparkplug node or device died,
                  or the values predate a reconnect) and nothing has arrived since;
  otherwise       the quality it arrived with: GOOD, BAD (out of range, NaN, a decoding error, an exception
                  response, flagged bad) or STALE (flagged stale by the publisher).

Anything not GOOD is NaN in the frame.

Why NO_VALUE before the first value: such a channel is neither stale (STALE says "an old value, no fresh one";
there is none) nor bad (BAD says "a value that is wrong", which drives the "bad signal quality" diagnostic while
the device answers). Both sources used to say one of them (Modbus BAD, masked to STALE; MQTT STALE). NO_VALUE is
OPC UA's Bad_WaitingForInitialData. Detection treats it like STALE: an asset none of whose configured channels
has a good value and some of which are COMM_FAIL, STALE or NO_VALUE is not communicating
(:func:`acquisition.quality.device_lost`: no scoring, "no data", a "communication lost" diagnostic); one such
channel beside good ones is a "bad signal quality" diagnostic, as a STALE or BAD one is.

Thread-safe: the writers (Modbus link threads, paho's network thread) and the frame clock's reader share one lock.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from acquisition.channels import N_CHANNELS
from acquisition.quality import Quality
from acquisition.source import Frame

_GOOD, _BAD = np.uint8(Quality.GOOD), np.uint8(Quality.BAD)
_NO_LINK = -1


class HeldValues:
    """Assets are rows in the order they were added; ``snapshot``/``frames`` give them in that order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # the monotonic clock arrivals are stamped with when no ``now`` is given
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._values = np.empty((0, N_CHANNELS))
        self._quality = np.empty((0, N_CHANNELS), np.uint8)  # as it arrived
        self._arrived = np.empty((0, N_CHANNELS))  # -inf: nothing yet
        self._source_ts = np.empty((0, N_CHANNELS))  # the publisher's timestamp of the value held, for ordering
        self._stale_after = np.empty((0, N_CHANNELS))
        self._marked_stale = np.empty((0, N_CHANNELS), bool)
        self._link = np.empty((0, N_CHANNELS), np.intp)  # -1: not configured
        self._link_down = np.empty(0, bool)
        self._link_heard_at = np.empty(0)
        self._link_silent_after = np.empty(0)

    # -- configuration ----------------------------------------------------------------------------------
    def add_link(self, silent_after_s: float = math.inf) -> int:
        """A new link (down until it first answers); its channels turn COMM_FAIL when it has answered nothing
        for ``silent_after_s`` and their values are not fresh. Returns its number."""
        with self._lock:
            self._link_down = np.append(self._link_down, True)
            self._link_heard_at = np.append(self._link_heard_at, -np.inf)
            self._link_silent_after = np.append(self._link_silent_after, silent_after_s)
            return len(self._link_down) - 1

    def add_asset(self, asset: str) -> int:
        """The asset's row (added with nothing configured when it is new)."""
        with self._lock:
            return self._row(asset)

    def configure(self, asset: str, channel: int, stale_after_s: float, link: int = 0) -> tuple[int, int]:
        """``link`` carries ``channel`` of ``asset``; a value older than ``stale_after_s`` is STALE. Returns the
        slot (row, column) for :meth:`hold_read`. The channel has NO_VALUE until a value arrives."""
        with self._lock:
            if not 0 <= link < len(self._link_down):
                raise ValueError(f"link {link} was not added (add_link first); links: {len(self._link_down)}")
            row = self._row(asset)
            self._link[row, channel] = link
            self._stale_after[row, channel] = stale_after_s
            return row, channel

    def _row(self, asset: str) -> int:
        row = self._rows.get(asset)
        if row is None:
            row = self._rows[asset] = len(self._rows)
            self._values = np.vstack((self._values, np.full(N_CHANNELS, np.nan)))
            self._quality = np.vstack((self._quality, np.full(N_CHANNELS, int(Quality.NO_VALUE), np.uint8)))
            self._arrived = np.vstack((self._arrived, np.full(N_CHANNELS, -np.inf)))
            self._source_ts = np.vstack((self._source_ts, np.full(N_CHANNELS, -np.inf)))
            self._stale_after = np.vstack((self._stale_after, np.full(N_CHANNELS, np.inf)))
            self._marked_stale = np.vstack((self._marked_stale, np.zeros(N_CHANNELS, bool)))
            self._link = np.vstack((self._link, np.full(N_CHANNELS, _NO_LINK, np.intp)))
        return row

    def slot(self, asset: str, channel: int) -> tuple[int, int]:
        with self._lock:
            return self._rows[asset], channel

    def known(self, asset: str) -> bool:
        with self._lock:
            return asset in self._rows

    def assets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._rows)

    # -- writers ----------------------------------------------------------------------------------------
    def hold(self, asset: str, channel: int, value: float, quality: Quality, now: float | None = None,
             ts: float | None = None) -> bool:
        """Hold one new value (NaN unless GOOD). With the publisher's timestamp ``ts``: False, and nothing
        changed, when it is older than the held value's (a message that arrived out of order). The asset must
        have been added."""
        now = self.clock() if now is None else now
        with self._lock:
            row = self._rows[asset]
            if ts is not None:
                if ts < self._source_ts[row, channel]:
                    return False
                self._source_ts[row, channel] = ts
            self._values[row, channel] = value if quality == Quality.GOOD else np.nan
            self._quality[row, channel] = int(quality)
            self._arrived[row, channel] = now
            self._marked_stale[row, channel] = False
            return True

    def hold_read(self, link: int, rows: np.ndarray, cols: np.ndarray, values: Sequence[float],
                  good: Sequence[bool], now: float | None = None) -> None:
        """The values of one answered read over ``link`` at slots (``rows``, ``cols``); ``good[i]`` False makes
        value i BAD. The answer also counts as the link answering."""
        now = self.clock() if now is None else now
        with self._lock:
            self._values[rows, cols] = values  # a BAD one is never shown: snapshots mask all but GOOD
            self._quality[rows, cols] = np.where(good, _GOOD, _BAD)
            self._arrived[rows, cols] = now
            self._marked_stale[rows, cols] = False
            self._link_heard_at[link] = now
            self._link_down[link] = False

    def link_up(self, link: int, now: float | None = None) -> None:
        """The link answered (a device replied, the broker accepted the connection)."""
        with self._lock:
            self._link_heard_at[link] = self.clock() if now is None else now
            self._link_down[link] = False

    def link_down(self, link: int) -> None:
        """The link is lost: its channels are COMM_FAIL at once, not after their stale time."""
        with self._lock:
            self._link_down[link] = True

    def mark_stale(self, asset: str, channels: Sequence[int] | None = None) -> None:
        """The values held for ``asset`` (or only ``channels``) can no longer be trusted as current (their
        publisher died, or they predate a reconnect): STALE until the next value arrives."""
        with self._lock:
            row = self._rows.get(asset)
            if row is None:
                return
            if channels is None:
                self._marked_stale[row, :] = True
            else:
                self._marked_stale[row, list(channels)] = True

    # -- reader (the source's frame clock) --------------------------------------------------------------
    def snapshot(self, now: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(values, quality), each (assets, channels) in :meth:`assets` order, copies; values are NaN wherever
        the quality is not GOOD."""
        now = self.clock() if now is None else now
        with self._lock:
            return self._snapshot(now)

    def frames(self, ts: float, now: float | None = None) -> list[Frame]:
        """One frame per asset at wall time ``ts``; ``now`` is the clock the arrivals were stamped with."""
        now = self.clock() if now is None else now
        with self._lock:
            values, quality = self._snapshot(now)
            assets = tuple(self._rows)
        return [Frame(asset, ts, values[i], quality[i]) for i, asset in enumerate(assets)]

    def _snapshot(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        configured = self._link != _NO_LINK
        if len(self._link_down):
            link = np.where(configured, self._link, 0)
            down = self._link_down[link]
            silent = (now - self._link_heard_at[link]) > self._link_silent_after[link]
        else:  # no link added: nothing is configured
            down = silent = np.zeros(self._link.shape, bool)
        never = self._arrived == -np.inf
        expired = (now - self._arrived) > self._stale_after
        q = np.where(expired | self._marked_stale, np.uint8(Quality.STALE), self._quality)
        q = np.where(never, np.uint8(Quality.NO_VALUE), q)
        q = np.where(down | (silent & (expired | never)), np.uint8(Quality.COMM_FAIL), q)
        q = np.where(configured, q, np.uint8(Quality.NOT_CONFIGURED)).astype(np.uint8)
        return np.where(q == _GOOD, self._values, np.nan), q
