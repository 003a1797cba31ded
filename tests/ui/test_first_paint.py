"""The first-paint mark (app/ui/first_paint.py): one log line at a widget's first paint with the process's age,
and the deferred start-up work run once, after that paint - or at the latest after its time-out."""
from __future__ import annotations

import logging
import re
import time

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.ui.first_paint import FirstPaintLog, process_age_s

PAINTED = re.compile(r"overview first painted ([0-9.]+) s after the process started")


def test_process_age_is_the_time_since_this_process_started() -> None:
    first = process_age_s()
    assert first is not None and first > 0
    second = process_age_s()
    assert second is not None and second >= first


def test_one_line_at_the_first_paint_then_the_deferred_work(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.ui.first_paint")
    label = QLabel("overview")
    qtbot.addWidget(label)
    events: list[str] = []
    FirstPaintLog(label, then=lambda: events.append("then"), then_at_latest_s=60)

    def painted_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if PAINTED.search(r.getMessage())]

    assert painted_lines() == [] and events == []  # nothing before the widget is painted
    label.show()
    qtbot.waitUntil(lambda: events == ["then"], timeout=5000)
    age_now = process_age_s()
    lines = painted_lines()
    assert len(lines) == 1
    logged = PAINTED.search(lines[0])
    assert logged is not None and age_now is not None
    assert 0 < float(logged.group(1)) <= age_now + 0.05  # /proc counts in clock ticks (10 ms)
    label.repaint()  # a later paint (synchronous) logs nothing more and runs nothing more
    assert len(painted_lines()) == 1 and events == ["then"]


def test_the_deferred_work_runs_even_if_the_widget_is_never_painted(qtbot: QtBot) -> None:
    label = QLabel("never shown")
    qtbot.addWidget(label)
    events: list[float] = []
    start = time.monotonic()
    FirstPaintLog(label, then=lambda: events.append(time.monotonic() - start), then_at_latest_s=0.2)
    qtbot.waitUntil(lambda: bool(events), timeout=5000)
    assert len(events) == 1 and events[0] >= 0.15
