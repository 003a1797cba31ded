"""The trend widget's drawing path: per-pixel min/max envelopes, one time span on every plot, y ranges that follow
the data without auto-ranging every frame."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.peaks import PeakEnvelope
from app.ui.widgets.trace_buffer import TraceBuffer
from app.ui.widgets.trend_plots import TrendPlots
from tests.ui.conftest import Hmi

T0 = 1_767_600_000.0


def samples(n: int, period: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ts = T0 + period * np.arange(n)
    values = np.vstack([np.sin(ts / (10 + k)) + k for k in range(8)])
    return ts, values, np.abs(np.sin(ts / 7))


def test_envelope_built_sample_by_sample_equals_one_built_at_once() -> None:
    ts, values, _ = samples(5000)
    values[3, 1000:1400] = np.nan  # a stretch whose quality was not good
    whole, live = PeakEnvelope(8), PeakEnvelope(8, capacity=16)
    whole.rebuild(2.5, ts, values)
    live.rebuild(2.5, ts[:10], values[:, :10])
    for i in range(10, len(ts), 7):
        live.append(ts[:i + 7], values[:, :i + 7])  # the whole buffer each time: only new samples count
    (xa, ya), (xb, yb) = whole.xy(), live.xy()
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb, equal_nan=True)
    assert len(xa) == 2 * len(whole) and len(whole) == len(np.unique(np.floor(ts / 2.5)))
    i0, i1 = whole.index_of(ts[1000] + 2.5), whole.index_of(ts[1399] - 2.5)
    assert np.isnan(ya[3, 2 * i0:2 * i1]).all(), "a gap in the data must stay a gap"
    assert np.isfinite(ya[2, 2 * i0:2 * i1]).all()
    lo, hi = whole.bounds(ts[0], ts[-1])
    assert np.allclose(lo, np.nanmin(values, axis=1)) and np.allclose(hi, np.nanmax(values, axis=1))


def test_curves_get_about_two_points_per_pixel_and_keep_the_peaks(qtbot: QtBot) -> None:
    plots = TrendPlots()
    qtbot.addWidget(plots)
    plots.resize(1200, 600)
    plots.show()
    qtbot.waitUntil(lambda: plots.plots[0].getViewBox().width() > 300)
    ts, values, scores = samples(36_000)
    values[0, 20_000] = 99.0  # one spike among 36,000 samples
    plots.set_x_range(ts[0], ts[-1])
    plots.set_live(ts, values, scores)
    x, y = plots.live_curves[0].getData()
    px = plots.plots[0].getViewBox().width()
    assert len(x) <= 2 * 1.6 * px + 8, f"{len(x)} points for {px:.0f} px"
    assert y.max() == 99.0, "the envelope must keep a single-sample spike"
    (y0, y1) = plots.plots[0].getViewBox().viewRange()[1]
    assert y0 < values[0].min() and y1 > 99.0


def test_every_plot_shows_the_same_time_span_and_a_drag_moves_them_all(hmi: Hmi) -> None:
    w = hmi.window
    hmi.wait(lambda: hmi.engine.wait(0))
    w.open_trends("P-102")
    hmi.wait(lambda: len(w.trends.buffer) > 1000)
    plots = w.trends.plots
    every = (*plots.plots, plots.score_plot)
    spans = {tuple(p.getViewBox().viewRange()[0]) for p in every}
    assert len(spans) == 1, f"left and right columns must not show different parts of the window: {spans}"
    vb = plots.plots[1].getViewBox()  # a plot in the right-hand column
    start = plots.mapFromScene(vb.mapViewToScene(vb.viewRect().center()))
    with hmi.qtbot.waitSignal(plots.sig_user_range, timeout=5000):
        hmi.qtbot.mousePress(plots.viewport(), Qt.MouseButton.LeftButton, pos=start)
        for dx in range(10, 300, 30):
            hmi.qtbot.mouseMove(plots.viewport(), start + QPoint(dx, 0))
        hmi.qtbot.mouseRelease(plots.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(300, 0))
    moved = {tuple(np.round(p.getViewBox().viewRange()[0], 6)) for p in every}
    assert len(moved) == 1 and next(iter(moved))[1] < next(iter(spans))[1] - 60, (spans, moved)
    assert not w.trends.following


def test_y_range_grows_at_once_when_a_value_leaves_it(qtbot: QtBot) -> None:
    plots = TrendPlots()
    qtbot.addWidget(plots)
    plots.resize(1200, 600)
    plots.show()
    buf = TraceBuffer(capacity=4000)
    ts, values, scores = samples(3001, period=1.0)
    buf.extend(ts[:3000], values[:, :3000].T, scores[:3000])
    plots.set_live_source(buf.view)
    plots.set_x_range(ts[2999] - 600, ts[2999])
    plots.set_live(*buf.view())
    before = plots.plots[2].getViewBox().viewRange()[1]
    other = plots.plots[5].getViewBox().viewRange()[1]
    high = values[:, 3000:].copy()
    high[2] = before[1] + 50.0
    buf.extend(ts[3000:], high.T, scores[3000:])
    plots.set_live(*buf.view())
    y0, y1 = plots.plots[2].getViewBox().viewRange()[1]
    assert y1 > before[1] + 50.0, "the new value must be on screen in the same frame"
    assert plots.plots[5].getViewBox().viewRange()[1] == other, "a plot whose data stayed inside keeps its range"
    assert not any(p.getViewBox().autoRangeEnabled()[1] for p in plots.plots)


def test_trends_status_changes_do_not_resize_the_plots(hmi: Hmi) -> None:
    w = hmi.window
    hmi.wait(lambda: hmi.engine.wait(0))  # the simulated run is over: nothing is mid-fit when the test ends
    hmi.click(w.nav.buttons["trends"])
    hmi.wait(lambda: w.trends.asset is not None and len(w.trends.buffer) > 10)
    size = w.trends.plots.size()
    w.trends._show_status(loading=True)
    w.trends.status.setText("PAUSED  05 Jan 06:10:00 - 05 Jan 07:10:00 and a much longer text that wraps")
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # lay out now, as the next turn would
    layout = w.trends.layout()
    assert layout is not None
    layout.activate()
    assert w.trends.plots.size() == size
