"""What the HMI shows about the uplink: read at 20-30 Hz from the GUI thread, so no database work per read.

The publisher thread keeps the counts current (refreshed from the outbox about once a second, adjusted in
between as messages are added and acknowledged); a read is a locked copy.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

STATES = ("disabled", "connecting", "connected", "down", "stand-in")


@dataclass(frozen=True, slots=True)
class UplinkStatus:
    """The uplink part of the engine's snapshot (``EngineSnapshot.uplink``)."""

    state: str  # disabled | connecting | connected | down | stand-in (no uplink; the in-process stand-in)
    backlog: int = 0  # messages in the outbox (not yet acknowledged by the broker)
    oldest_age_s: float | None = None  # age of the oldest of them
    dropped: int = 0  # telemetry messages dropped by the outbox bound since start
    over_bound: bool = False  # alarm-class messages alone exceed the bound (kept, never dropped)
    last_error: str | None = None  # the last connection/TLS/auth error, until the next successful connect
    published: int = 0  # messages acknowledged by the broker since start
    alarm_backlog: int = 0  # alarm, alarm-event and label messages in the outbox


class StatusBoard:
    """Thread-safe holder of the live numbers behind :class:`UplinkStatus`."""

    def __init__(self, clock: Callable[[], float] = time.time, state: str = "connecting") -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._s = UplinkStatus(state)
        self._oldest_ts: float | None = None

    def read(self) -> UplinkStatus:
        with self._lock:
            s, oldest = self._s, self._oldest_ts
        age = None if oldest is None or s.backlog == 0 else max(0.0, self._clock() - oldest)
        return replace(s, oldest_age_s=age)

    def set_state(self, state: str, error: str | None = None, clear_error: bool = False) -> None:
        with self._lock:
            err = None if clear_error else (error if error is not None else self._s.last_error)
            self._s = replace(self._s, state=state, last_error=err)

    def set_error(self, error: str) -> None:
        with self._lock:
            self._s = replace(self._s, last_error=error)

    def set_backlog(self, total: int, alarm_class: int, oldest_ts: float | None) -> None:
        with self._lock:
            self._s = replace(self._s, backlog=total, alarm_backlog=alarm_class)
            self._oldest_ts = oldest_ts

    def added(self, n: int, alarm_class: int, ts: float) -> None:
        with self._lock:
            self._s = replace(self._s, backlog=self._s.backlog + n, alarm_backlog=self._s.alarm_backlog + alarm_class)
            if self._oldest_ts is None:
                self._oldest_ts = ts

    def acknowledged(self, n: int, alarm_class: int) -> None:
        with self._lock:
            s = self._s
            self._s = replace(s, backlog=max(0, s.backlog - n), published=s.published + n,
                              alarm_backlog=max(0, s.alarm_backlog - alarm_class))

    def pruned(self, dropped: int, over_bound: bool) -> None:
        with self._lock:
            s = self._s
            self._s = replace(s, dropped=s.dropped + dropped, backlog=max(0, s.backlog - dropped),
                              over_bound=over_bound)
