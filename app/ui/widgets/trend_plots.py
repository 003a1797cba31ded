"""Stacked channel trends above an anomaly-score strip, x-linked, for live data and stored history.

pyqtgraph as in its scrollingPlots example: one curve per channel for live samples and one for stored history,
``setData`` once per frame on preallocated buffers, peak downsampling and clip-to-view. Drag pans the time
axis, pinch (or the zoom buttons of the screen) zooms it; the y axes follow the visible data.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QGestureEvent, QPinchGesture, QWidget

from acquisition.channels import PUMP_CHANNELS
from app.ui import theme

SCALE_CAP = 4.0  # the score strip shows 0 .. 4x the threshold

pg.setConfigOptions(antialias=False, background=theme.PANEL, foreground=theme.TEXT)


class SparseAxis(pg.AxisItem):
    """A value axis that keeps its labels at least MIN_TICK_PX apart: a 50 px plot gets two or three numbers,
    not four stacked on top of each other."""

    MIN_TICK_PX = 20

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802, N803
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or maxVal <= minVal or size <= 0:
            return levels
        px_per_unit = size / (maxVal - minVal)
        spacing = levels[0][0]
        while spacing * px_per_unit < self.MIN_TICK_PX:
            spacing *= 2
        return [(spacing, 0)]


def _axis_style(plot: pg.PlotItem) -> None:
    tick_font = theme.font(theme.FONT_SMALL_PX - 1)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(pg.mkPen(theme.BORDER))
        ax.setTextPen(pg.mkPen(theme.TEXT))
        ax.setStyle(tickFont=tick_font, tickTextOffset=4)
    plot.getAxis("left").setWidth(62)


class TrendPlots(pg.GraphicsLayoutWidget):
    sig_user_range = Signal(float, float)
    """The operator dragged or pinched the time axis: the new visible (t0, t1) in plant epoch seconds."""

    def __init__(self, channels: Sequence[int] = tuple(range(len(PUMP_CHANNELS))), columns: int = 2,
                 score_height: float = 1.3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.ci.setSpacing(2)
        self.channels = tuple(channels)
        empty = np.empty(0)
        self._live_scores: tuple[np.ndarray, np.ndarray] = (empty, empty)
        self._history_scores: tuple[np.ndarray, np.ndarray] = (empty, empty)
        self._threshold = 1.0
        self.plots: list[pg.PlotItem] = []
        self.live_curves: list[pg.PlotDataItem] = []
        self.history_curves: list[pg.PlotDataItem] = []
        rows = (len(self.channels) + columns - 1) // columns
        self.score_plot = pg.PlotItem(axisItems={"bottom": pg.DateAxisItem()})
        for k, ch in enumerate(self.channels):
            plot = self.addPlot(row=k // columns, col=k % columns, axisItems={"left": SparseAxis("left")})
            self._setup_plot(plot)
            plot.hideAxis("bottom")  # the score strip's time axis serves all; a hidden one costs nothing per frame
            plot.setXLink(self.score_plot)
            self.plots.append(plot)
        self.addItem(self.score_plot, row=rows, col=0, colspan=columns)
        self._setup_plot(self.score_plot)
        # small preferred heights, so the stretch factors (not the items' size hints) share out the height
        for plot in (*self.plots, self.score_plot):
            plot.setPreferredHeight(30)
        self.ci.layout.setRowStretchFactor(rows, int(score_height * 10))
        for r in range(rows):
            self.ci.layout.setRowStretchFactor(r, 10)
        # Cosmetic 1 px pens (one drawPath, not a segment per sample) and about one min/max pair per pixel column:
        # measured 4x faster per frame than 1.5 px pens at pyqtgraph's default 5 samples per pixel.
        for plot in self.plots:
            self.live_curves.append(self._curve(plot, theme.TRACE))
            self.history_curves.append(self._curve(plot, theme.TRACE_HISTORY))
        self.score_history = self._curve(self.score_plot, theme.TRACE_HISTORY)
        self.score_live = self._curve(self.score_plot, theme.TRACE)
        self.threshold_line = pg.InfiniteLine(
            pos=1.0, angle=0, movable=False, pen=pg.mkPen(theme.THRESHOLD, width=2, style=Qt.PenStyle.DashLine),
            label="threshold {value:.2f}", labelOpts={"position": 0.04, "color": theme.TEXT, "anchors": [(0, 1), (0, 1)]})
        self.score_plot.addItem(self.threshold_line)
        self.off_scale = pg.TextItem("", color=theme.TEXT, fill=theme.qcolor("#ffffff", 200), anchor=(1, 0))
        self.off_scale.hide()
        self.score_plot.addItem(self.off_scale, ignoreBounds=True)
        self.score_plot.setLabel("left", "score")
        self.set_titles()
        self._marks: list[pg.GraphicsObject] = []
        self._open_spans: list[tuple[pg.LinearRegionItem, float]] = []
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.viewport().installEventFilter(self)

    @staticmethod
    def _curve(plot: pg.PlotItem, colour: str) -> pg.PlotDataItem:
        curve = plot.plot(pen=pg.mkPen(colour, width=1), connect="finite")
        curve.opts["autoDownsampleFactor"] = 1.0  # no public setter in pyqtgraph 0.13/0.14
        return curve

    def _setup_plot(self, plot: pg.PlotItem) -> None:
        _axis_style(plot)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.enableAutoRange(axis="y")
        plot.setAutoVisible(y=True)
        plot.getViewBox().sigRangeChangedManually.connect(self._manual_range)

    # -- data -----------------------------------------------------------------------------------
    def set_titles(self, latest: np.ndarray | None = None) -> None:
        for plot, ch in zip(self.plots, self.channels):
            c = PUMP_CHANNELS[ch]
            value = "" if latest is None or not np.isfinite(latest[ch]) else f"   {latest[ch]:.2f}"
            plot.setTitle(f"{c.label} [{c.unit}]{value}", size=f"{theme.FONT_SMALL_PX}px", color=theme.TEXT)

    def set_live(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """``values`` channel-major (8, n): one contiguous row per channel, no copy."""
        for curve, ch in zip(self.live_curves, self.channels):
            curve.setData(ts, values[ch])
        self._live_scores = (ts, scores)
        self.score_live.setData(ts, self._on_scale(scores))
        if len(ts):
            for region, t0 in self._open_spans:
                region.setRegion((t0, float(ts[-1])))
        self._fit_score_axis()

    def set_history(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """``values`` row-major (n, 8), as ``engine.history`` returns them."""
        for curve, ch in zip(self.history_curves, self.channels):
            curve.setData(ts, np.ascontiguousarray(values[:, ch]) if len(ts) else np.empty(0))
        self._history_scores = (ts, scores)
        self.score_history.setData(ts, self._on_scale(scores))
        self._fit_score_axis()

    def clear_data(self) -> None:
        empty = np.empty(0)
        for curve in (*self.live_curves, *self.history_curves, self.score_live, self.score_history):
            curve.setData(empty, empty)
        self._live_scores = self._history_scores = (empty, empty)

    def set_threshold(self, threshold: float) -> None:
        if threshold != self._threshold:
            self._threshold = threshold
            self.threshold_line.setValue(threshold)
            self.score_live.setData(self._live_scores[0], self._on_scale(self._live_scores[1]))
            self.score_history.setData(self._history_scores[0], self._on_scale(self._history_scores[1]))
            self._fit_score_axis()

    def set_alarm_marks(self, marks: Sequence[tuple[float, float | None, str]]) -> None:
        """(raised_ts, end_ts or None while active, priority) per alarm: a tinted span and a labelled start
        line. An active alarm's span follows the newest live sample."""
        for item in self._marks:
            self.score_plot.removeItem(item)
        self._marks = []
        self._open_spans = []
        now = float(self._live_scores[0][-1]) if len(self._live_scores[0]) else None
        for t0, t1, priority in marks:
            colour = theme.priority_colour(priority)
            end = t1 if t1 is not None else (now if now is not None else t0)
            if t1 is None or end > t0:
                region = pg.LinearRegionItem((t0, end), movable=False, brush=theme.qcolor(colour, 45),
                                             pen=pg.mkPen(None))
                region.setZValue(-10)
                self.score_plot.addItem(region)
                self._marks.append(region)
                if t1 is None:
                    self._open_spans.append((region, t0))
            line = pg.InfiniteLine(pos=t0, angle=90, movable=False, pen=pg.mkPen(colour, width=3),
                                   label=theme.PRIORITY_WORDS.get(priority, priority),
                                   labelOpts={"position": 0.85, "color": theme.PRIORITY_TEXT_ON.get(priority, "#fff"),
                                              "fill": colour})
            self.score_plot.addItem(line)
            self._marks.append(line)

    # -- range ----------------------------------------------------------------------------------
    def set_x_range(self, t0: float, t1: float) -> None:
        self.score_plot.setXRange(t0, t1, padding=0)
        self._fit_score_axis()

    def x_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.score_plot.getViewBox().viewRange()
        return float(x0), float(x1)

    def zoom(self, factor: float) -> None:
        """factor < 1 zooms in (shows less time), keeping the right edge when following live data."""
        x0, x1 = self.x_range()
        centre = (x0 + x1) / 2
        half = (x1 - x0) * factor / 2
        self.set_x_range(centre - half, centre + half)
        self.sig_user_range.emit(*self.x_range())

    def _manual_range(self, *_: object) -> None:
        self._fit_score_axis()
        self.sig_user_range.emit(*self.x_range())

    def _on_scale(self, scores: np.ndarray) -> np.ndarray:
        """Scores as drawn: at most SCALE_CAP x the threshold (a score of 30 must not flatten the threshold onto
        the axis); higher values run along the top edge and the strip says "off scale" with the peak."""
        return np.minimum(scores, self._threshold * SCALE_CAP)

    def _fit_score_axis(self) -> None:
        x0, x1 = self.x_range()
        top, peak = self._threshold * 1.5, 0.0
        for ts, sc in (self._live_scores, self._history_scores):
            if not len(ts):
                continue
            i0, i1 = np.searchsorted(ts, (x0, x1))
            seg = sc[i0:i1]
            if len(seg) and np.isfinite(seg).any():
                peak = max(peak, float(np.nanmax(seg)))
        cap = self._threshold * SCALE_CAP
        top = min(max(top, peak * 1.1), cap * 1.05)
        self.score_plot.setYRange(0, top, padding=0)
        if peak > cap:
            self.off_scale.setText(f"\u25b2 off scale: peak {peak:.1f}")
            self.off_scale.setPos(x1, top)
            self.off_scale.show()
        else:
            self.off_scale.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Gesture and isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture) and pinch.scaleFactor() > 0:
                self.zoom(1.0 / pinch.scaleFactor())
                event.accept()
                return True
        return False
