"""Logging repeated faults without flooding the log: the first of each kind at once, then one line per interval
saying how many more there were."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable


class ThrottledLog:
    """Per ``key``: the first ``first`` messages are logged as they come, then at most one per ``interval_s``."""

    def __init__(self, logger: logging.Logger, interval_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, first: int = 1) -> None:
        self._log, self._interval, self._clock, self._first = logger, interval_s, clock, first
        self._lock = threading.Lock()
        self._seen: dict[Hashable, int] = {}
        self._last: dict[Hashable, float] = {}
        self._suppressed: dict[Hashable, int] = {}

    def log(self, level: int, key: Hashable, msg: str, *args: object) -> bool:
        """Log ``msg`` unless it is past the first few of its ``key`` and one with the same ``key`` was logged
        within the interval; True if logged."""
        now = self._clock()
        with self._lock:
            seen = self._seen[key] = self._seen.get(key, 0) + 1
            last = self._last.get(key)
            if seen > self._first and last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._last[key] = now
            more = self._suppressed.pop(key, 0)
        if more:
            msg += " (%d more like this in the last %.0f s)"
            args = (*args, more, now - last)  # type: ignore[operator]
        self._log.log(level, msg, *args)
        return True

    def forget(self, key: Hashable) -> None:
        """The condition behind ``key`` has cleared: its next message is logged at once."""
        with self._lock:
            for counts in (self._seen, self._last, self._suppressed):
                counts.pop(key, None)
