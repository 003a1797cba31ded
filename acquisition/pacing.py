"""Keeping a source's plant clock in step with the wall clock at a chosen speed (plant seconds per wall second)."""
from __future__ import annotations

import threading
import time


class Pacer:
    """``wait_until(plant_ts)`` blocks until that plant time is due; speed 0 never waits."""

    def __init__(self, speed: float) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0 (plant seconds per wall second; 0 = as fast as possible), got {speed}")
        self.speed = speed
        self._t0_wall: float | None = None
        self._t0_plant = 0.0

    def wait_until(self, plant_ts: float, stop: threading.Event) -> bool:
        """Returns False if ``stop`` was set while waiting."""
        if self.speed == 0:
            return not stop.is_set()
        now = time.monotonic()
        if self._t0_wall is None:
            self._t0_wall, self._t0_plant = now, plant_ts
            return not stop.is_set()
        due = self._t0_wall + (plant_ts - self._t0_plant) / self.speed
        if due > now:
            return not stop.wait(due - now)
        return not stop.is_set()
