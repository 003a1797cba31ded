"""The garbage collector and the GUI thread: no full collection of the start-up heap while the operator looks.

A full (generation 2) collection walks every tracked object and holds the GIL throughout, whichever thread
triggers it: over the heaps of Qt, pyqtgraph, SQLAlchemy and the engine that took 100-170 ms (measured), a frozen
screen in the middle of a history load. Everything built at start-up lives as long as the application, so once the
window and the engine are up it is moved out of the collector's sight (``gc.freeze``); later full collections
only walk what was created since, a few milliseconds.
"""
from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle_after_startup() -> int:
    """Collect once, then freeze what is left (call after the window is shown and the engine started).
    Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("start-up heap frozen: %d objects out of the collector's sight", frozen)
    return frozen
