"""The bridge hops engine events onto the GUI thread; the display check needs no Qt."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from app import events
from app.ui.bridge import EventInbox
from app.ui.display import display_available
from tests.ui.conftest import Hmi


@pytest.mark.parametrize("env, platform, expected", [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
    ({"QT_QPA_PLATFORM": "eglfs"}, "linux", True),
    ({}, "win32", True),
])
def test_display_available(env: dict, platform: str, expected: bool) -> None:
    assert display_available(env, platform) is expected


def numbered(i: int) -> events.SourceFinished:
    """A real engine event that carries the order it was put in."""
    return events.SourceFinished(frames=i, skipped={})


def test_event_inbox_takes_events_from_many_threads_and_stays_bounded() -> None:
    inbox = EventInbox(max_events=50_000)

    def put_5000() -> None:
        for i in range(5000):
            inbox.put(numbered(i))

    threads = [threading.Thread(target=put_5000) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(inbox.drain()) == 20_000 and inbox.drain() == []
    small = EventInbox(max_events=10)
    for i in range(15):
        small.put(numbered(i))
    assert small.drain() == [numbered(i) for i in range(5, 15)] and small.dropped == 5


def test_events_samples_and_snapshots_arrive_on_the_gui_thread(hmi: Hmi, qapp: QApplication) -> None:
    bridge = hmi.window.bridge
    threads: set[bool] = set()
    got: list[object] = []

    def on_events(evs: list[object]) -> None:
        threads.add(QThread.currentThread() is qapp.thread())
        got.extend(evs)

    bridge.sig_events.connect(on_events)
    bridge.sig_samples.connect(lambda *a: threads.add(QThread.currentThread() is qapp.thread()))
    hmi.wait(lambda: any(isinstance(e, events.AlarmRaised) for e in got))
    assert threads == {True}
    assert bridge.snapshot is not None and set(bridge.snapshot.assets) == {"P-101", "P-102"}
    assert any(isinstance(e, events.CommissioningCompleted) for e in got)
