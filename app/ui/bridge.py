"""The one bridge from the engine to the GUI thread.

Engine events arrive on worker threads; the listener only appends them to a locked list (it never touches a Qt
object, so it stays safe even after the window is gone). A QTimer on the GUI thread (~25 Hz) drains that list,
polls the cheap in-memory calls of the HMI API (``api.snapshot()``, ``api.live_since(...)``, ``api.alarms()``)
and re-emits everything as Qt signals. Nothing here touches the database.
"""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app import events
from app.hmi_api import Alarm, EngineEvent, EngineSnapshot, HmiApi

log = logging.getLogger(__name__)

_ALARM_EVENTS = (events.AlarmRaised, events.AlarmCleared, events.AlarmStateChanged)
SNAPSHOT_EVERY = 3  # ticks (40 ms) between snapshots: ~8 Hz for status, tiles and the alarm count
BACKGROUND_SAMPLES_EVERY = 12  # ~2 Hz for assets not on the Trends screen (their sparklines)
ALARMS_EVERY = 25  # ~1 Hz re-read of the alarm list even without events (shelving expiry, cloud time-outs)


class EventInbox:
    """Thread-safe hand-over of engine events; bounded so a stalled GUI cannot eat the memory."""

    def __init__(self, max_events: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._items: list[EngineEvent] = []
        self._max = max_events
        self.dropped = 0

    def put(self, event: EngineEvent) -> None:
        """Called on engine worker threads."""
        with self._lock:
            if len(self._items) >= self._max:
                self._items.pop(0)
                self.dropped += 1
            self._items.append(event)

    def drain(self) -> list[EngineEvent]:
        with self._lock:
            items, self._items = self._items, []
        return items


class EngineBridge(QObject):
    """Polls the engine (through the HMI API) on the GUI thread and re-emits what changed as signals."""

    sig_snapshot = Signal(object)
    """About 8 times a second (and after events): the latest :class:`app.hmi_api.EngineSnapshot`."""

    sig_events = Signal(list)
    """The engine events (``app.events``) that arrived since the last tick, oldest first; only when non-empty."""

    sig_samples = Signal(str, object, object, object)
    """New live samples of one asset: (asset, ts (n,), values (n, 8), scores (n,) with NaN = no score); every
    tick for :attr:`focus_asset`, about twice a second for the others."""

    sig_alarms = Signal(list)
    """The alarm list (``api.alarms()``, a list of :class:`app.hmi_api.Alarm`) after alarm events, and at least
    once a second."""

    sig_error = Signal(str)
    """Polling the engine failed (a bug or a stopped engine): the text for the error banner."""

    def __init__(self, api: HmiApi, interval_ms: int = 40, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.inbox = EventInbox()
        self._subscribed = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._last_ts: dict[str, float] = {}
        self._ticks = -1
        self._reported: set[str] = set()
        self.focus_asset: str | None = None  # the asset on the Trends screen: its samples every tick
        self.snapshot: EngineSnapshot | None = None
        self.alarms: list[Alarm] = []

    def start(self) -> None:
        if not self._subscribed:
            self.api.subscribe(self.inbox.put)
            self._subscribed = True
        self._timer.start()
        self.tick()

    def stop(self) -> None:
        """Stop polling; events still arriving go to the inbox and are simply never drained."""
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    @Slot()
    def tick(self) -> None:
        """Events every tick (~25 Hz); the snapshot at ~8 Hz; the focused asset's samples every tick, the
        others' at ~2 Hz; the alarm list after alarm events and at ~1 Hz. Each poll copies engine state, so
        polling less of what nobody is looking at keeps a 50-pump panel cheap."""
        self._ticks += 1
        evs = self.inbox.drain()
        if evs:
            self.sig_events.emit(evs)
        if self.snapshot is None or evs or self._ticks % SNAPSHOT_EVERY == 0:
            self._poll("snapshot", self._emit_snapshot)
        if self.snapshot is not None:
            every = self._ticks % BACKGROUND_SAMPLES_EVERY == 0
            self._poll("live samples", lambda: self._emit_samples(everyone=every))
        if any(isinstance(e, _ALARM_EVENTS) for e in evs) or self._ticks % ALARMS_EVERY == 0:
            self._poll("alarm list", self._emit_alarms)

    def refresh_alarms(self) -> None:
        """Re-read the alarm list now (after an operator command)."""
        self._poll("alarm list", self._emit_alarms)

    def _poll(self, what: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Exception as exc:  # the GUI must keep running; report once per kind
            if what not in self._reported:
                self._reported.add(what)
                log.exception("reading the engine's %s failed", what)
                self.sig_error.emit(f"Display cannot read the engine's {what}: {type(exc).__name__}: {exc}")

    def _emit_snapshot(self) -> None:
        self.snapshot = self.api.snapshot()
        self.sig_snapshot.emit(self.snapshot)

    def _emit_samples(self, everyone: bool = True) -> None:
        if self.snapshot is None:
            return
        for asset in self.snapshot.assets:
            if not everyone and asset != self.focus_asset:
                continue
            ts, values, scores = self.api.live_since(asset, self._last_ts.get(asset, -math.inf))
            if len(ts):
                self._last_ts[asset] = float(ts[-1])
                self.sig_samples.emit(asset, ts, values, scores)

    def _emit_alarms(self) -> None:
        self.alarms = list(self.api.alarms())
        self.sig_alarms.emit(self.alarms)

    def alarm(self, alarm_id: str) -> Alarm | None:
        return next((a for a in self.alarms if a.id == alarm_id), None)
