"""Sample-and-hold of every mapped channel, and the rules that turn its age and its device's state into a
quality at frame time.

At each frame a channel is:
  NOT_CONFIGURED  when no register maps it;
  COMM_FAIL       when its device's connection is down, or when its value has expired and the device has not
                  answered anything within that time either (a silent device);
  STALE           when its value has expired (no fresh read within ``stale_after_polls`` poll intervals) while
                  the device still answers other requests;
  BAD / GOOD      otherwise, as decoded (out of range, NaN, exception response, ...).
Anything not GOOD is NaN in the frame's values.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from acquisition.channels import INDEX, N_CHANNELS
from acquisition.modbus.register_map import RegisterDef, RegisterMap
from acquisition.quality import Quality

_GOOD, _BAD = np.uint8(Quality.GOOD), np.uint8(Quality.BAD)


class HeldValues:
    def __init__(self, plant: RegisterMap, clock: Callable[[], float] = time.monotonic) -> None:
        self.assets = plant.assets
        self._asset_index = {a: i for i, a in enumerate(self.assets)}
        self.clock = clock
        shape = (len(self.assets), N_CHANNELS)
        self._lock = threading.Lock()
        self._values = np.full(shape, np.nan)
        self._quality = np.full(shape, int(Quality.BAD), dtype=np.uint8)
        self._fresh_at = np.full(shape, -np.inf)
        self._stale_after = np.full(shape, np.inf)
        self._device_of = np.full(shape, -1, dtype=np.intp)
        n_dev = len(plant.devices)
        self._down = np.ones(n_dev, dtype=bool)  # nothing heard yet: COMM_FAIL until the first answer
        self._answered_at = np.full(n_dev, -np.inf)
        self._device_stale_after = np.empty(n_dev)
        for d, dev in enumerate(plant.devices):
            window = plant.stale_after_polls * dev.poll_interval_s
            self._device_stale_after[d] = window
            for reg in dev.registers:
                a, c = self.slot(reg)
                self._device_of[a, c] = d
                self._stale_after[a, c] = window
        self._mapped = self._device_of >= 0

    def slot(self, reg: RegisterDef) -> tuple[int, int]:
        return self._asset_index[reg.asset], INDEX[reg.channel]

    # -- writers (poll workers) -------------------------------------------------------------------------
    def store(self, device: int, rows: np.ndarray, cols: np.ndarray, values: list[float], good: list[bool],
              now: float | None = None) -> None:
        """Fresh values of one read; ``good[i]`` False marks value i BAD (it is kept as NaN)."""
        now = self.clock() if now is None else now
        with self._lock:
            self._values[rows, cols] = values
            self._quality[rows, cols] = np.where(good, _GOOD, _BAD)
            self._fresh_at[rows, cols] = now
            self._answered_at[device] = now
            self._down[device] = False

    def device_answered(self, device: int, now: float | None = None) -> None:
        with self._lock:
            self._answered_at[device] = self.clock() if now is None else now
            self._down[device] = False

    def device_down(self, device: int) -> None:
        with self._lock:
            self._down[device] = True

    # -- reader (the source's frame clock) -------------------------------------------------------------
    def snapshot(self, now: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(values, quality), each (assets, channels), copies; values are NaN wherever quality is not GOOD."""
        now = self.clock() if now is None else now
        with self._lock:
            dev = np.maximum(self._device_of, 0)
            down = self._down[dev]
            silent = (now - self._answered_at[dev]) > self._device_stale_after[dev]
            expired = (now - self._fresh_at) > self._stale_after
            q = np.where(expired, np.where(silent, np.uint8(Quality.COMM_FAIL), np.uint8(Quality.STALE)),
                         self._quality)
            q = np.where(down, np.uint8(Quality.COMM_FAIL), q)
            q = np.where(self._mapped, q, np.uint8(Quality.NOT_CONFIGURED)).astype(np.uint8)
            values = np.where(q == _GOOD, self._values, np.nan)
        return values, q
