"""Counting and logging what the ingest could not use, without letting a misbehaving publisher flood the log."""
from __future__ import annotations

import logging
import threading
import time

from acquisition.source import SourceStats

LOG_FIRST = 5          # the first few of each reason are logged in full
LOG_EVERY_S = 60.0     # then one line per reason per minute, with how many were not logged


class SkipReporter:
    """``skip(reason, where, detail)``: count in ``stats.skipped[reason]`` and log the cause (rate-limited).

    Called from paho's network thread; the lock keeps the counters exact.
    """

    def __init__(self, stats: SourceStats, logger: logging.Logger, clock=time.monotonic) -> None:  # noqa: ANN001
        self.stats = stats
        self._log = logger
        self._clock = clock
        self._lock = threading.Lock()
        self._last_logged: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def skip(self, reason: str, where: str, detail: str) -> None:
        with self._lock:
            self.stats.skip(reason)
            n = self.stats.skipped[reason]
            now = self._clock()
            if n > LOG_FIRST and now - self._last_logged.get(reason, -1e18) < LOG_EVERY_S:
                self._quiet[reason] = self._quiet.get(reason, 0) + 1
                return
            quiet = self._quiet.pop(reason, 0)
            self._last_logged[reason] = now
        more = f" ({quiet} more not logged since the last line)" if quiet else ""
        self._log.warning("MQTT ingest skipped %s on %s (%d so far)%s: %s", reason, where, n, more, detail)

    def count(self, reason: str) -> int:
        with self._lock:
            return self.stats.skipped.get(reason, 0)
