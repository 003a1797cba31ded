"""One log line when the overview is first painted, with the time since the process started.

The start-up time an operator waits for (power on -> the plant on the screen) is a number the journal should hold
for every start, and the one thing a bundle test or bench can watch from outside the process: the frozen executable
runs no test code, so the line (``overview first painted 1.23 s after the process started``) is the mark
tests/packaging/test_bundle.py and bench/bench_bundle.py wait for.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

MESSAGE = "overview first painted %.2f s after the process started"


def process_age_s() -> float | None:
    """Seconds since this process was started (Linux /proc), or None where that is not known."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks
        with open("/proc/uptime") as f:
            uptime_s = float(f.read().split()[0])
        return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class FirstPaintLog(QObject):
    """Event filter on one widget: logs :data:`MESSAGE` at its first paint, then removes itself. ``then`` runs once,
    from the event loop just after that paint (or after ``then_at_latest_s`` if the widget is never painted):
    start-up work that need not delay the first picture."""

    def __init__(self, widget: QWidget, then: Callable[[], object] | None = None,
                 then_at_latest_s: float = 10.0) -> None:
        super().__init__(widget)
        self._widget = widget
        self._t0 = time.monotonic()
        self._age_at_t0 = process_age_s()
        self._then = then
        widget.installEventFilter(self)
        if then is not None:
            QTimer.singleShot(round(then_at_latest_s * 1000), self, self._run_then)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            since_install = time.monotonic() - self._t0
            age = (self._age_at_t0 + since_install) if self._age_at_t0 is not None else since_install
            log.info(MESSAGE, age)
            if self._then is not None:
                QTimer.singleShot(0, self, self._run_then)  # after this paint has reached the screen
        return False

    def _run_then(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()
