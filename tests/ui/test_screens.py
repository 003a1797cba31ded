"""Every screen renders with real data from a real engine; navigation by taps; trends load stored history."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from pytestqt.qtbot import QtBot

from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.trend_traces import EnvelopeCurve
from tests.ui.conftest import Hmi


def points(curve: EnvelopeCurve) -> int:
    """How many samples a curve was given (before clip-to-view and downsampling)."""
    return 0 if curve.xData is None else len(curve.xData)


def test_every_screen_renders_with_live_data(hmi: Hmi) -> None:
    w = hmi.window
    alarm = hmi.wait_for_alarms()[0]
    hmi.wait(lambda: hmi.engine.wait(0))
    # Overview: one tile per asset, with scores drawn and the alarm badge on the faulted pump
    hmi.wait(lambda: set(w.overview.tiles) == {"P-101", "P-102"})
    tile = w.overview.tile("P-101")
    # the badge follows alarm events, the health word the (slower) snapshot poll: wait for both
    hmi.wait(lambda: len(tile.sparkline.history.ts) > 100 and "alarm" in tile.badge.text()
             and "ALARM" in tile.health.text())
    assert "ALARM" in tile.health.text() and "No alarms" in w.overview.tile("P-102").badge.text()
    assert not w.grab().isNull()
    # Trends: tap the tile, eight channel curves and the score curve carry the live samples
    hmi.click(tile)
    assert w.current == "trends" and w.trends.asset == "P-101"
    hmi.wait(lambda: points(w.trends.plots.score_live) > 100)
    for curve in w.trends.plots.live_curves:
        assert points(curve) > 100 and np.isfinite(curve.yData).any()
    # Alarms: the alarm is listed with its state, priority and the cloud's sentence
    hmi.click(w.nav.buttons["alarms"])
    model = w.alarms.table.alarm_model
    hmi.wait(lambda: model.row_of(alarm.id) >= 0)
    row = model.row_of(alarm.id)
    assert model.index(row, 0).data() == "UNACK"
    assert model.index(row, 5).data() == hmi.engine.alarms.get(alarm.id).cloud.text != ""
    # Alarm detail: traces around the event come from the store on a worker, bars show the drivers
    hmi.select_alarm(alarm.id)
    hmi.click(w.alarms.detail_button)
    assert w.current == "detail"
    hmi.wait(lambda: w.detail.traces_loaded)
    assert points(w.detail.plots.history_curves[0]) > 100
    assert [c for c, _ in w.detail.bars.shares] == [c for c, _ in alarm.top_channels]
    # Login: the demo users as buttons and the PIN pad
    hmi.click(w.nav.user_button)
    hmi.wait(lambda: set(w.login.user_buttons) == {"operator", "technician", "supervisor", "admin"})
    assert w.login.pad.isVisible()
    for key in ("overview", "trends", "alarms", "detail", "login"):
        w.show_screen(key)
        assert not w.grab().isNull()


def test_status_bar_shows_source_uplink_and_user(hmi: Hmi) -> None:
    w = hmi.window
    hmi.wait(lambda: "Data OK" in w.status.source.full_text())
    assert w.status.uplink.full_text() == "Uplink: stand-in"
    assert "not logged in" in w.status.user.full_text()
    assert w.status.clock.text().count(":") == 2
    hmi.login("technician")
    assert w.status.user.full_text() == "User: technician"  # the role is the name: said once
    assert w.nav.user_button.text().startswith("technician")


def test_overview_shows_ten_live_pumps_at_once(hmi_factory: Callable[..., Hmi]) -> None:
    """Ten pumps of a real engine: all on the screen without scrolling, in several columns (issue 12)."""
    from tests.ui.conftest import fault_station

    hmi = hmi_factory(station=fault_station(n_pumps=10, faults=(), duration_s=60))
    w = hmi.window
    hmi.wait(lambda: len(w.overview.tiles) == 10)
    viewport = w.overview.scroll_area.viewport()
    hmi.wait(lambda: all(viewport.rect().contains(QRect(t.mapTo(viewport, QPoint(0, 0)), t.size()))
                         for t in w.overview.tiles.values()))
    assert w.overview.scroll_area.verticalScrollBar().maximum() == 0
    assert len({t.x() for t in w.overview.tiles.values()}) >= 3
    for tile in w.overview.tiles.values():
        assert tile.width() >= 250 and tile.height() >= 150


def test_trends_window_choice_and_stored_history(hmi: Hmi) -> None:
    w = hmi.window
    hmi.wait(lambda: hmi.engine.wait(0))
    w.open_trends("P-101")
    hmi.wait(lambda: len(w.trends.buffer) > 1000)
    hmi.click(w.trends.window_button)  # the window choices open over the screen; a tap on one shows it
    hmi.click(hmi.panel(ChoicePanel).buttons["10 min"])
    assert not w.overlay.is_open() and w.trends.window_button.text() == "Window\n10 min"
    x0, x1 = w.trends.plots.x_range()
    assert abs((x1 - x0) - 600) < 1 and w.trends.following
    # 8 h is longer than the live buffer holds: stored history is loaded on the history worker
    hmi.click(w.trends.window_button)
    hmi.click(hmi.panel(ChoicePanel).buttons["8 h"])
    hmi.wait(lambda: w.trends.history_span() is not None and w.trends.history_idle())
    x0, x1 = w.trends.plots.x_range()
    assert abs((x1 - x0) - 8 * 3600) < 1
    # pause freezes the view; resume follows the newest sample again
    hmi.click(w.trends.pause_button)
    assert not w.trends.following and w.trends.status.text().startswith("PAUSED")
    hmi.click(w.trends.zoom_in_button)
    x0b, x1b = w.trends.plots.x_range()
    assert (x1b - x0b) < (x1 - x0)
    hmi.click(w.trends.pause_button)
    assert w.trends.following and w.trends.status.text() == "LIVE"
    # the asset stepper moves to the next pump
    hmi.click(w.trends.next_button)
    assert w.trends.asset == "P-102"


def test_dragging_back_pauses_and_loads_history(hmi: Hmi) -> None:
    w = hmi.window
    hmi.wait(lambda: hmi.engine.wait(0))
    w.open_trends("P-102")
    hmi.wait(lambda: len(w.trends.buffer) > 1000)
    plots = w.trends.plots
    vb = plots.score_plot.getViewBox()
    start = plots.mapFromScene(vb.mapViewToScene(vb.viewRect().center()))
    with hmi.qtbot.waitSignal(plots.sig_user_range, timeout=5000):
        hmi.qtbot.mousePress(plots.viewport(), Qt.MouseButton.LeftButton, pos=start)
        for dx in range(10, 400, 30):  # a finger dragging right = looking further back in time
            hmi.qtbot.mouseMove(plots.viewport(), start + QPoint(dx, 0))
        hmi.qtbot.mouseRelease(plots.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(400, 0))
    assert not w.trends.following
    hmi.click(w.trends.zoom_out_button)
    hmi.click(w.trends.zoom_out_button)
    hmi.wait(lambda: w.trends.history_span() is not None and w.trends.history_idle())


def test_status_bar_shows_an_uplink_backlog_and_its_age(qtbot: QtBot) -> None:
    from app.live import EngineSnapshot, SourceHealth, UplinkStatus
    from app.ui.widgets.chrome import StatusBar

    bar = StatusBar()
    qtbot.addWidget(bar)
    down = EngineSnapshot(None, {}, SourceHealth(True, "receiving", 10, 0),
                          UplinkStatus("down", 34_560, 3 * 86400 + 7200), 1.25)
    bar.set_snapshot(down)
    assert bar.uplink.full_text() == "Uplink down: 34560 queued (3 d 2 h)"
    assert "background" in bar.uplink.styleSheet()  # abnormal: highlighted
    bar.set_snapshot(EngineSnapshot(None, {}, SourceHealth(True, "receiving", 10, 0), UplinkStatus("connected", 0),
                                    1.25))
    assert bar.uplink.full_text() == "Uplink: connected" and bar.uplink.styleSheet() == ""
