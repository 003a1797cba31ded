"""Keeping a source's plant clock in step with the wall clock at a chosen speed (plant seconds per wall second)."""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# A gap in a recording that would take longer than this to wait out is skipped over (the pacer restarts from the
# sample after it): a replay at 1x of a logger that was off for a night must not sit silent until morning.
MAX_WAIT_S = 300.0


class Pacer:
    """``wait_until(plant_ts)`` blocks until that plant time is due; speed 0 never waits. Never waits longer than
    ``max_wait_s`` for one sample, whatever timestamp it is given."""

    def __init__(self, speed: float, max_wait_s: float = MAX_WAIT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(speed) or speed < 0:
            raise ValueError(f"speed must be >= 0 (plant seconds per wall second; 0 = as fast as possible), "
                             f"got {speed}")
        self.speed = speed
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._t0_wall: float | None = None
        self._t0_plant = 0.0
        self.gaps_skipped = 0

    def wait_until(self, plant_ts: float, stop: threading.Event) -> bool:
        """Returns False if ``stop`` was set while waiting."""
        if self.speed == 0:
            return not stop.is_set()
        now = self._clock()
        if self._t0_wall is None or not math.isfinite(plant_ts):
            self._anchor(now, plant_ts)
            return not stop.is_set()
        wait = (plant_ts - self._t0_plant) / self.speed - (now - self._t0_wall)
        if not math.isfinite(wait) or wait > self.max_wait_s:
            self.gaps_skipped += 1
            log.info("replay: plant time jumps to %.0f (%.0f s of wall time at %gx): not waited out",
                     plant_ts, wait, self.speed)
            self._anchor(now, plant_ts)
            return not stop.is_set()
        if wait > 0:
            return not stop.wait(wait)
        return not stop.is_set()

    def _anchor(self, now: float, plant_ts: float) -> None:
        self._t0_wall = now
        self._t0_plant = plant_ts if math.isfinite(plant_ts) else 0.0
