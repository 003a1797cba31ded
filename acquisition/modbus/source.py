"""A Modbus plant as a :class:`acquisition.source.Source`: one frame per asset every frame period, always.

Frames are built from the poller's held values (sample-and-hold with quality), on the source's own clock, so
they keep coming when every device is down: then with COMM_FAIL/STALE quality and NaN values, which is what
lets the engine raise a diagnostic alarm rather than see an asset that merely went quiet.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from acquisition.modbus.poller import ModbusPoller
from acquisition.modbus.register_map import RegisterMap, load_register_map
from acquisition.source import Frame, SourceStats

log = logging.getLogger(__name__)

_MAX_WAIT_S = 0.2  # stop is checked at least this often


class ModbusSource:
    def __init__(self, plant: RegisterMap | str | Path, frame_period_s: float | None = None,
                 duration_s: float | None = None) -> None:
        """``duration_s``: stop after this long (a live plant's clock is the wall clock); None = until stopped."""
        self.plant = plant if isinstance(plant, RegisterMap) else load_register_map(plant)
        self.frame_period_s = frame_period_s if frame_period_s is not None else self.plant.frame_period_s
        if not self.frame_period_s > 0:
            raise ValueError(f"frame_period_s must be > 0 seconds, got {self.frame_period_s!r}")
        if duration_s is not None and not duration_s > 0:
            raise ValueError(f"duration_s must be None (run until stopped) or seconds > 0, got {duration_s!r}")
        self.duration_s = duration_s
        self.assets: tuple[str, ...] = self.plant.assets
        self.stats = SourceStats()
        self.poller = ModbusPoller(self.plant, self.stats)

    def frames(self, ts: float) -> list[Frame]:
        return self.poller.held.frames(ts)

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        """Yields one list of frames (every asset) per frame period until ``stop``; returns within ~0.2 s."""
        self.poller.start()
        period = self.frame_period_s
        due = time.monotonic() + period
        end = math.inf if self.duration_s is None else time.monotonic() + self.duration_s
        try:
            while not stop.is_set() and due <= end + 1e-9:
                now = time.monotonic()
                if now < due:
                    stop.wait(min(due - now, _MAX_WAIT_S))
                    continue
                frames = self.frames(time.time())
                self.stats.frames += len(frames)
                yield frames
                due += period
                if due <= time.monotonic():  # the consumer was slow: don't burst to catch up, resume the grid
                    due = time.monotonic() + period
        finally:
            self.poller.stop()
