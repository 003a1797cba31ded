"""Counting what a source could not use and logging why, without letting a misbehaving device or publisher
flood the log (Modbus poller, MQTT ingest)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from acquisition.source import SourceStats
from common.throttled_log import ThrottledLog


class SkipLog:
    """``skip(reason, key, msg, *args)``: count one ``reason`` in ``stats.skipped`` and log ``msg % args``
    through ``throttled`` (per ``key``: the first ``first`` at once, then one line per ``interval_s``). With
    ``tally`` each line ends with how many of that reason there have been so far.

    Called from several threads (Modbus link workers, paho's network thread): the lock keeps the counters exact.
    """

    def __init__(self, stats: SourceStats, logger: logging.Logger, interval_s: float = 60.0, *, first: int = 1,
                 tally: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.stats = stats
        self.throttled = ThrottledLog(logger, interval_s, clock, first)
        self._tally = tally
        self._lock = threading.Lock()

    def skip(self, reason: str, key: Hashable, msg: str, *args: object) -> None:
        with self._lock:
            self.stats.skip(reason)
            n = self.stats.skipped[reason]
        if self._tally:
            msg, args = msg + " (%d so far)", (*args, n)
        self.throttled.log(logging.WARNING, key, msg, *args)

    def count(self, reason: str) -> int:
        with self._lock:
            return self.stats.skipped.get(reason, 0)
