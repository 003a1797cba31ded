"""Logging repeated field faults without flooding the log: the first of each kind at once, then one line per
interval saying how many more there were."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class ThrottledLog:
    def __init__(self, logger: logging.Logger, interval_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log, self._interval, self._clock = logger, interval_s, clock
        self._lock = threading.Lock()
        self._last: dict[tuple, float] = {}
        self._suppressed: dict[tuple, int] = {}

    def log(self, level: int, key: tuple, msg: str, *args: object) -> bool:
        """Log ``msg`` unless a message with the same ``key`` was logged within the interval; True if logged."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._last[key] = now
            more = self._suppressed.pop(key, 0)
        if more:
            msg += " (%d more like this in the last %.0f s)"
            args = (*args, more, now - last)  # type: ignore[operator]
        self._log.log(level, msg, *args)
        return True
