"""A logger sampled once a minute reads as a trend on the Overview and on Trends (issue 10, item 4).

At one sample a minute the views sized for one a second would show ten dots: the tile's sparkline and the
Trends window widen to at least 60 samples of the asset's measured period; a fast asset keeps ten minutes.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.screens.trends import MIN_SAMPLES_IN_VIEW, readable_window_s
from app.ui.widgets.sparkline import MIN_POINTS
from tests.support.fake_hmi import FakeHmi, window_on

WAIT_MS = 5000


@pytest.fixture
def fake() -> FakeHmi:
    api = FakeHmi()
    api.set_sample_period("P-102", 60.0)
    return api


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from window_on(qtbot, fake)


@pytest.mark.parametrize("period", [1.0, 5.0, 10.0, 30.0, 60.0, 600.0])
def test_the_trend_window_holds_enough_samples_at_every_rate(period: float) -> None:
    window = readable_window_s(period)
    assert window / period >= MIN_SAMPLES_IN_VIEW or window == 86400.0
    assert window == 600.0 if period <= 10.0 else window > 600.0


def test_a_minute_logger_tile_draws_an_hour_and_a_fast_pump_ten_minutes(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: {"P-101", "P-102"} <= set(window.overview.tiles), timeout=WAIT_MS)
    slow, fast = window.overview.tile("P-102").sparkline, window.overview.tile("P-101").sparkline
    qtbot.waitUntil(lambda: len(slow.history.ts) >= MIN_POINTS, timeout=WAIT_MS)
    assert slow.history.span_s == 60.0 * MIN_POINTS
    assert fast.history.span_s == 600.0
    assert len(slow.history.ts) >= MIN_POINTS  # the last hour of minute samples, not the last ten


def test_trends_opens_a_minute_logger_on_a_window_it_can_draw(qtbot: QtBot, window: MainWindow) -> None:
    trends = window.trends
    trends.set_asset("P-101")
    qtbot.waitUntil(lambda: trends.asset == "P-101", timeout=WAIT_MS)
    assert trends.window_s == 600.0
    trends.set_asset("P-102")
    qtbot.waitUntil(lambda: trends.window_s == 3600.0, timeout=WAIT_MS)
    assert trends.window_button.text() == "Window\n1 h"
    trends.set_window(8 * 3600)  # the operator's own wider choice stands at the next status
    qtbot.waitUntil(lambda: trends.window_button.text() == "Window\n8 h", timeout=WAIT_MS)
    seen = trends._snapshot
    qtbot.waitUntil(lambda: trends._snapshot is not seen, timeout=WAIT_MS)  # a newer status has been taken
    assert trends.window_s == 8 * 3600
