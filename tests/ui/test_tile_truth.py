"""The tile shows what the alarm rule sees, and never a state it does not know (issue 12, items 2 and 3).

- A raw score that spikes over the threshold for fewer samples than the rule's minimum duration is not an alarm:
  the trace the tile draws (the score as the rule evaluates it) stays below the drawn threshold line.
- An alarmed pump's trace keeps its shape: its pixels are not a flat bar along the top edge.
- When the engine itself dies, every tile says NO DATA in the diagnostic look instead of its last state.
Checked on rendered pixmaps of the real widgets in the real main window over a FakeHmi.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.health import Part
from app.hmi_api import Priority
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.widgets.asset_tile import AssetTile
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on

opened = contextmanager(window_on)  # `with opened(qtbot, fake) as window:` after the plant is set up

WAIT_MS = 5000
RNG = np.random.default_rng(12)


def quiet(n: int) -> np.ndarray:
    return 0.3 + 0.15 * RNG.random(n)


@pytest.fixture
def fake() -> FakeHmi:
    return FakeHmi(["P-101", "P-102", "P-103"], threshold=1.25)


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from window_on(qtbot, fake)


def image_of(widget: object) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)  # type: ignore[attr-defined]


def rows_of(img: QImage, wanted: QColor, tolerance: int = 40, x_to: int | None = None) -> list[int]:
    """The y of every pixel within ``tolerance`` (per channel) of ``wanted`` (left of ``x_to``)."""
    ys = []
    for y in range(img.height()):
        for x in range(x_to if x_to is not None else img.width()):
            c = img.pixelColor(x, y)
            if (abs(c.red() - wanted.red()) <= tolerance and abs(c.green() - wanted.green()) <= tolerance
                    and abs(c.blue() - wanted.blue()) <= tolerance):
                ys.append(y)
    return ys


def threshold_row(img: QImage) -> int:
    """The dashed threshold line: the row with the most neutral dark-grey pixels (the trace is blue-grey)."""
    def grey(c: QColor) -> bool:
        return c.red() < 110 and max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) <= 6

    counts = [sum(1 for x in range(img.width()) if grey(img.pixelColor(x, y))) for y in range(img.height())]
    return int(np.argmax(counts))


def trace_rows(img: QImage, x_to: int) -> list[int]:
    """The y of every pixel of the blue-grey score trace (theme.TRACE) left of ``x_to``."""
    return [y for y in range(img.height()) for x in range(x_to)
            if (c := img.pixelColor(x, y)).blue() - c.red() >= 15 and c.blue() < 170]


def _near(c: QColor, wanted: QColor, tol: int) -> bool:
    return max(abs(c.red() - wanted.red()), abs(c.green() - wanted.green()), abs(c.blue() - wanted.blue())) <= tol


def test_a_short_spike_is_drawn_as_the_rule_sees_it_below_the_line(qtbot: QtBot, fake: FakeHmi) -> None:
    # 601 samples at 1 Hz; 8 samples at 2.5 (twice the threshold) 100 s in: the rule needs 20 s and 10 samples
    scores = quiet(601)
    scores[100:108] = 2.5
    rule = fake.set_scores("P-101", scores)
    assert not rule.active and rule.above_n == 0  # the engine's own rule raised nothing and waits for nothing
    long_run = scores.copy()
    long_run[100:140] = 2.5  # long enough: the rule raised (and cleared again)
    fake.set_scores("P-102", long_run)
    with opened(qtbot, fake) as window:
        overview = window.overview
        qtbot.waitUntil(lambda: len(overview.tiles) == 3, timeout=WAIT_MS)
        short, long = overview.tile("P-101").sparkline, overview.tile("P-102").sparkline
        qtbot.waitUntil(lambda: len(short.history.ts) >= 590 and len(long.history.ts) >= 590, timeout=WAIT_MS)
        assert np.nanmax(short.history.scores) == 2.5  # the raw spike did reach the tile
        assert overview.tile("P-101").health.text() == "Normal"
        img = image_of(short)
        y_line = threshold_row(img)
        trace = trace_rows(img, img.width() // 3)  # the spike is in the left third; the line's words at the right
        assert trace, "no trace drawn"
        assert min(trace) > y_line + 1, f"trace reaches y={min(trace)}, the threshold line is at y={y_line}"
        img = image_of(long)  # the same drawing crosses the line where the rule did raise
        assert min(trace_rows(img, img.width() // 3)) < threshold_row(img) - 3


def test_an_alarmed_trace_is_not_a_flat_bar_along_the_top(qtbot: QtBot, fake: FakeHmi) -> None:
    scores = np.concatenate((quiet(400), 3.0 + 12.0 * RNG.random(201)))  # 2.4x to 12x the threshold
    rule = fake.set_scores("P-103", scores)
    assert rule.active
    fake.add_alarm(an_alarm("a1", "P-103", Priority.HIGH))
    with opened(qtbot, fake) as window:
        qtbot.waitUntil(lambda: "P-103" in window.overview.tiles, timeout=WAIT_MS)
        tile = window.overview.tile("P-103")
        spark = tile.sparkline
        qtbot.waitUntil(lambda: len(spark.history.ts) >= 590 and "ALARM" in tile.health.text(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: spark.alarm_colour == theme.HIGH, timeout=WAIT_MS)
        img = image_of(spark)
        red = rows_of(img, QColor(theme.HIGH), 40)
        assert len(red) > 50, "the alarmed part is not drawn in the alarm colour"
        top = min(red)
        spread = max(red) - top
        near_top = sum(1 for y in red if y <= top + 3) / len(red)
        assert spread >= 0.3 * img.height(), f"alarmed trace spans {spread} px of {img.height()}: a flat bar"
        assert near_top < 0.5, f"{near_top:.0%} of the alarmed trace in its top 4 px rows: clipped"
        assert top > 2  # not drawn on the frame


def says_no_data(tile: AssetTile) -> Callable[[], bool]:
    return lambda: "NO DATA" in tile.health.text()


def test_tiles_say_no_data_when_the_engine_has_stopped(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    fake.add_alarm(an_alarm("a1", "P-102", Priority.HIGH))
    overview = window.overview
    qtbot.waitUntil(lambda: len(overview.tiles) == 3 and overview.tile("P-101").health.text() == "Normal",
                    timeout=WAIT_MS)
    fake.fail_worker(Part.DETECTION, "RuntimeError: scoring thread died")
    for asset in ("P-101", "P-102", "P-103"):
        tile = overview.tile(asset)
        qtbot.waitUntil(says_no_data(tile), timeout=WAIT_MS)
        assert "Normal" not in tile.health.text() and "ALARM" not in tile.health.text()
        assert "engine stopped" in tile.regime.text().lower() or "engine stopped" in tile.sparkline.note
        assert theme.FAULT_BG in tile.health.styleSheet()  # the diagnostic look, never a priority colour
        chip = image_of(tile.health)
        centre = chip.pixelColor(4, chip.height() // 2)
        assert _near(centre, QColor(theme.FAULT_BG), 12), f"{asset}: chip painted {centre.name()}"
        assert tile.score.text() == "score -"
    # the alarm itself is still there to see and act on; the tile still opens Trends
    assert "HIGH" in overview.tile("P-102").badge.text()
    tile = overview.tile("P-101")
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton, pos=tile.rect().center())
    qtbot.waitUntil(lambda: window.current == "trends", timeout=WAIT_MS)


@pytest.mark.parametrize("size", [(300, 290), (240, 130), (120, 56)])  # FULL (1280x800), COMPACT, MINI
def test_held_alarms_are_said_in_words_that_fit_the_tile(qtbot: QtBot, size: tuple[int, int]) -> None:
    """A pump whose alarms are shelved or out of service says which, in full when the tile has room (the old
    "1 alarm shelved / suppressed / out of service" was cut at 1280x800), never cut."""
    from dataclasses import replace

    from app.hmi_api import AlarmState

    tile = AssetTile("P-106")
    qtbot.addWidget(tile)
    theme.style_window(tile)
    tile.set_tile_size(*size)
    tile.show()
    qtbot.waitExposed(tile)
    shelved = replace(an_alarm("a1", "P-106"), overlay=AlarmState.SHLVD)
    oos = replace(an_alarm("a2", "P-106"), overlay=AlarmState.OOSRV)
    tile.set_alarms([shelved])
    if size[0] >= 240:
        assert tile.badge.text() == "1 alarm shelved"
    tile.set_alarms([shelved, oos])
    text = tile.badge.text()
    assert "2 held" in text or ("shelved" in text and "out of service" in text), text
    if tile.badge.isVisible():
        assert tile.badge.fontMetrics().horizontalAdvance(text) <= tile.badge.contentsRect().width(), text
