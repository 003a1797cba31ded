"""Proof of progress from a worker thread, for the service watchdog (app/watchdog.py).

A worker calls :meth:`Heartbeat.beat` at every turn of its loop, idle turns included (a queue ``get`` that timed
out is a turn), so a thread with nothing to do still shows it is not stuck, and one blocked inside its work does
not. A worker that ends normally (a replay reached its end) calls :meth:`finished`: it is done, not hung.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Heartbeat:
    """A monotonic timestamp and a counter of loop turns; ``beat`` is cheap enough for every turn."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last = clock()
        self.count = 0
        self.done = False
        self.thread: threading.Thread | None = None  # the worker's thread, once it has beaten

    def beat(self) -> None:
        # Plain attribute writes: atomic under the GIL; the watchdog only needs a recent value, not a lock.
        self.last = self._clock()
        self.count += 1
        if self.thread is None:
            self.thread = threading.current_thread()

    def finished(self) -> None:
        self.done = True

    def silent_for(self) -> float:
        return self._clock() - self.last
