"""Stacked channel trends above an anomaly-score strip, on one time axis, for live data and stored history.

pyqtgraph, but fed like its scrollingPlots example is meant to be: each curve gets about two points per pixel
column (a min/max envelope reduced incrementally, see app/peaks.py and trend_traces.py), y ranges are fitted
about once a second (or at once when a value leaves the range) instead of auto-ranging every frame, and the grid
is drawn by the view boxes rather than by 17 axes. Every plot shows the same time span: each view box gets the
range directly (pyqtgraph's x-link lines views up by screen position, which gave the left and the right column
different halves of the window). Drag pans the time axis, pinch (or the screen's zoom buttons) zooms it.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QGestureEvent, QPinchGesture, QWidget

from acquisition.channels import N_CHANNELS, PUMP_CHANNELS
from app.hmi_api import Alarm, AlarmKind, Priority
from app.ui import theme
from app.ui.quality_look import channel_title
from app.ui.widgets.trend_axes import SteadyDateAxis, grid_levels, hide_time_axis, make_plot
from app.ui.widgets.trend_labels import MARK_ANCHORS, MARK_POSITION, PLACES, place_clear_of
from app.ui.widgets.trend_traces import EnvelopeCurve, TraceSet

SCALE_CAP = 4.0  # the score strip shows 0 .. 4x the threshold
FIT_EVERY_S = 1.0  # y ranges may shrink this often; they grow at once when a value leaves them
_PAD = 0.08  # of the data's span, above and below

pg.setConfigOptions(antialias=False, background=theme.PANEL, foreground=theme.TEXT)


class AlarmMark(NamedTuple):
    """An alarm on the score strip: from ``raised_ts`` to ``end_ts`` (None while active)."""

    raised_ts: float
    end_ts: float | None
    priority: Priority
    kind: AlarmKind = AlarmKind.ANOMALY

    @classmethod
    def of(cls, a: Alarm) -> AlarmMark:
        return cls(a.raised_ts, None if a.active else (a.cleared_ts or a.last_active_ts), a.priority, a.kind)


class TrendPlots(pg.GraphicsLayoutWidget):
    sig_user_range = Signal(float, float)
    """The operator dragged or pinched the time axis: the new visible (t0, t1) in plant epoch seconds."""

    def __init__(self, channels: Sequence[int] = tuple(range(len(PUMP_CHANNELS))), columns: int = 2,
                 score_height: float = 1.3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.ci.setSpacing(2)
        self.channels = tuple(channels)
        self._rows = np.asarray(self.channels, dtype=int)
        self._threshold = 1.0
        self.plots: list[pg.PlotItem] = []
        rows = (len(self.channels) + columns - 1) // columns
        for k in range(len(self.channels)):
            bottom_row = k >= len(self.channels) - columns
            plot = make_plot(bottom_axis=SteadyDateAxis() if bottom_row and columns > 1 else None)
            if not (bottom_row and columns > 1):  # a column narrower than the score strip gets its own time axis
                hide_time_axis(plot)
            self.addItem(plot, row=k // columns, col=k % columns)
            self.plots.append(plot)
        self.score_plot = make_plot(bottom_axis=SteadyDateAxis())
        self.addItem(self.score_plot, row=rows, col=0, colspan=columns)
        self.score_plot.showGrid(x=True, y=False, alpha=0.25)  # time grid: its axis repaints every frame anyway
        self.ci.layout.setRowStretchFactor(rows, int(score_height * 10))
        for r in range(rows):
            self.ci.layout.setRowStretchFactor(r, 10)
        # Cosmetic 1 px pens: one drawPath per curve, not a segment per sample. History under live data.
        self.history_curves = [self._curve(plot, theme.TRACE_HISTORY) for plot in self.plots]
        self.live_curves = [self._curve(plot, theme.TRACE) for plot in self.plots]
        self.score_history = self._curve(self.score_plot, theme.TRACE_HISTORY)
        self.score_live = self._curve(self.score_plot, theme.TRACE)
        self._live = TraceSet(list(zip(self.live_curves, self.channels, strict=True)), N_CHANNELS)
        self._history = TraceSet(list(zip(self.history_curves, self.channels, strict=True)), N_CHANNELS)
        self._live_score = TraceSet([(self.score_live, 0)], 1)
        self._history_score = TraceSet([(self.score_history, 0)], 1)
        self._live_score.transform = self._history_score.transform = self._on_scale
        self.threshold_line = pg.InfiniteLine(
            pos=1.0, angle=0, movable=False, pen=pg.mkPen(theme.THRESHOLD, width=2, style=Qt.PenStyle.DashLine),
            label="threshold {value:.2f}",
            labelOpts={"position": PLACES[0][0], "color": theme.TEXT, "fill": theme.qcolor(theme.PANEL, 200)})
        self.score_plot.addItem(self.threshold_line)
        self.off_scale = pg.TextItem("", color=theme.TEXT, fill=theme.qcolor("#ffffff", 200), anchor=(1, 0))
        self.off_scale.hide()
        self.score_plot.addItem(self.off_scale, ignoreBounds=True)
        self.score_plot.setLabel("left", "score")
        self._ylo = np.full(len(self.plots), np.inf)  # each channel plot's y range (inf: never fitted)
        self._yhi = np.full(len(self.plots), -np.inf)
        self._score_top = 0.0
        self._fitted_at = -np.inf
        self._ranged = False
        self._width_s = 0.0
        self._setting_range = False
        self._titles: dict[int, tuple[str, str]] = {}
        self._marks: list[pg.GraphicsObject] = []
        self._open_spans: list[tuple[pg.LinearRegionItem, float]] = []
        self._resize_timer = QTimer(self)  # one re-fit per layout change, not one per view box
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(0)
        self._resize_timer.timeout.connect(self._resized)
        for plot in (*self.plots, self.score_plot):
            vb = plot.getViewBox()
            vb.sigRangeChangedManually.connect(lambda _mask, vb=vb: self._manual_range(vb))
            vb.sigResized.connect(lambda *_: self._resize_timer.start())
        self.set_titles()
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.viewport().installEventFilter(self)

    @staticmethod
    def _curve(plot: pg.PlotItem, colour: str) -> EnvelopeCurve:
        curve = EnvelopeCurve(pen=pg.mkPen(colour, width=1), connect="finite")
        plot.addItem(curve)
        return curve

    def set_live_source(self, source: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Where to re-read the live samples when the view moves (the screen's ring buffer: the arrays given to
        :meth:`set_live` may have been overwritten by then)."""
        def channels() -> tuple[np.ndarray, np.ndarray]:
            ts, values, _scores = source()
            return ts, values

        def scores() -> tuple[np.ndarray, np.ndarray]:
            ts, _values, sc = source()
            return ts, sc[np.newaxis, :]

        self._live.source, self._live_score.source = channels, scores

    # -- data -----------------------------------------------------------------------------------
    def set_titles(self, latest: np.ndarray | None = None, quality: np.ndarray | None = None) -> None:
        """Each plot's title with the channel's newest value, or its quality word when that is not good."""
        for k, (plot, ch) in enumerate(zip(self.plots, self.channels, strict=True)):
            title = channel_title(ch, latest, quality)
            if self._titles.get(k) != title:  # a title re-renders its HTML: only on change
                self._titles[k] = title
                plot.setTitle(title[0], size=f"{theme.FONT_SMALL_PX}px", color=title[1])

    def set_live(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """``values`` channel-major (8, n): one contiguous row per channel, no copy."""
        if not self._ranged and len(ts):
            self.set_x_range(float(ts[0]), float(ts[-1]) if ts[-1] > ts[0] else float(ts[0]) + 1.0)
        added = self._live.feed(ts, values)
        added_score = self._live_score.feed(ts, scores[np.newaxis, :])
        if len(ts):
            for region, t0 in self._open_spans:
                region.setRegion((t0, float(ts[-1])))
        self._fit_after(added, added_score)

    def set_history(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """``values`` row-major (n, 8), as ``engine.history`` returns them."""
        if not self._ranged and len(ts) > 1:
            self.set_x_range(float(ts[0]), float(ts[-1]))
        self._history.replace(ts, values.T if len(ts) else np.empty((N_CHANNELS, 0)))
        self._history_score.replace(ts, scores[np.newaxis, :])
        self._fit_y(force=True)
        self._fit_score_axis()

    def clear_data(self) -> None:
        for traces in (self._live, self._history, self._live_score, self._history_score):
            traces.clear()
        self._ylo[:], self._yhi[:] = np.inf, -np.inf

    def set_threshold(self, threshold: float) -> None:
        if threshold != self._threshold:
            self._threshold = threshold
            self.threshold_line.setValue(threshold)
            self._live_score.redraw()
            self._history_score.redraw()
            self._fit_score_axis()

    def set_alarm_marks(self, marks: Sequence[AlarmMark]) -> None:
        """Per alarm a tinted span and a labelled start line. An active alarm's span follows the newest live
        sample. A diagnostic alarm (the data, not the process) is a slate line with its own word and no span over
        the score."""
        for item in self._marks:
            self.score_plot.removeItem(item)
        self._marks = []
        self._open_spans = []
        last = self._live.env.last_ts
        now = float(last) if np.isfinite(last) else None
        for t0, t1, priority, kind in marks:
            if kind is AlarmKind.DIAGNOSTIC:
                line = pg.InfiniteLine(pos=t0, angle=90, movable=False, pen=pg.mkPen(theme.FAULT_BG, width=3),
                                       label="DIAGNOSTIC", labelOpts={"position": MARK_POSITION,
                                                                     "anchors": MARK_ANCHORS,
                                                                     "color": theme.FAULT_TEXT,
                                                                     "fill": theme.FAULT_BG})
                self.score_plot.addItem(line)
                self._marks.append(line)
                continue
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
                                   label=theme.PRIORITY_WORDS[priority],
                                   labelOpts={"position": MARK_POSITION, "anchors": MARK_ANCHORS,
                                              "color": theme.PRIORITY_TEXT_ON[priority], "fill": colour})
            self.score_plot.addItem(line)
            self._marks.append(line)
        self._place_words()

    def _place_words(self) -> None:
        """The threshold's label clear of the marks' words and the off-scale note (app/ui/widgets/trend_labels)."""
        words = [m.label for m in self._marks if isinstance(m, pg.InfiniteLine) and m.label is not None]
        place_clear_of(self.threshold_line.label, self.score_plot.getViewBox(), [*words, self.off_scale])

    # -- range ----------------------------------------------------------------------------------
    def set_x_range(self, t0: float, t1: float) -> None:
        self._apply_x(t0, t1)

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

    def _apply_x(self, t0: float, t1: float, source: pg.ViewBox | None = None) -> None:
        """The same time span on every plot, then the curves and the y ranges follow it."""
        self._ranged = True
        self._setting_range = True
        try:
            for plot in (*self.plots, self.score_plot):
                vb = plot.getViewBox()
                if vb is not source:
                    vb.setXRange(t0, t1, padding=0)
        finally:
            self._setting_range = False
        self._view_moved()

    def _manual_range(self, vb: pg.ViewBox) -> None:
        if self._setting_range:
            return
        (x0, x1), _ = vb.viewRange()
        self._apply_x(x0, x1, source=vb)
        self.sig_user_range.emit(*self.x_range())

    def _resized(self) -> None:
        if self._ranged:
            self._view_moved(force_fit=True)

    def _view_moved(self, force_fit: bool = False) -> None:
        x0, x1 = self.x_range()
        if abs((x1 - x0) - self._width_s) > 1e-9 * (x1 - x0):  # zoomed: fit the y ranges to what is shown now
            self._width_s = x1 - x0
            force_fit = True
        px = max(50.0, self.plots[0].getViewBox().width()) if self.plots else 600.0
        px_score = max(50.0, self.score_plot.getViewBox().width())
        moved = self._live.sync(x0, x1, px) | self._history.sync(x0, x1, px)
        moved_score = self._live_score.sync(x0, x1, px_score) | self._history_score.sync(x0, x1, px_score)
        if moved or force_fit:
            self._fit_y(force=force_fit)
        if moved_score or force_fit:
            self._fit_score_axis()
        if self.off_scale.isVisible():
            self.off_scale.setPos(x1, self._score_top)
        self._place_words()

    # -- y ranges -------------------------------------------------------------------------------
    def _fit_after(self, added: tuple[np.ndarray, np.ndarray] | None,
                   added_score: tuple[np.ndarray, np.ndarray] | None) -> None:
        """After new live samples: refit now if one left its plot's range, else about once a second."""
        now = time.monotonic()
        due = now - self._fitted_at >= FIT_EVERY_S
        if due or (added is not None and bool(np.any((added[0][self._rows] < self._ylo)
                                                      | (added[1][self._rows] > self._yhi)))):
            self._fit_y()
        cap = self._threshold * SCALE_CAP * 1.05
        if due or (added_score is not None and min(added_score[1][0] * 1.1, cap) > self._score_top):
            self._fit_score_axis()

    def _fit_y(self, force: bool = False) -> None:
        """Each channel plot's y range from the visible envelopes; changed only when the data left it or now
        fills less than half of it (an axis repaint costs, a jittering axis is hard to read)."""
        self._fitted_at = time.monotonic()
        x0, x1 = self.x_range()
        lo_l, hi_l = self._live.bounds(x0, x1)
        lo_h, hi_h = self._history.bounds(x0, x1)
        lo, hi = np.fmin(lo_l, lo_h)[self._rows], np.fmax(hi_l, hi_h)[self._rows]
        for k, plot in enumerate(self.plots):
            a, b = float(lo[k]), float(hi[k])
            if not (np.isfinite(a) and np.isfinite(b)):
                continue
            pad = max((b - a) * _PAD, abs(b) * 1e-3, 1e-6)
            want0, want1 = a - pad, b + pad
            cur0, cur1 = self._ylo[k], self._yhi[k]
            if force or a < cur0 or b > cur1 or (cur1 - cur0) > 2.5 * (want1 - want0):
                self._set_y(plot, want0, want1)
                self._ylo[k], self._yhi[k] = want0, want1

    @staticmethod
    def _set_y(plot: pg.PlotItem, y0: float, y1: float) -> None:
        vb = plot.getViewBox()
        vb.setYRange(y0, y1, padding=0)
        vb.set_grid(grid_levels(plot.getAxis("left"), y0, y1, vb.height()))

    def _on_scale(self, scores: np.ndarray) -> np.ndarray:
        """Scores as drawn: at most SCALE_CAP x the threshold (a score of 30 must not flatten the threshold onto
        the axis); higher values run along the top edge and the strip says "off scale" with the peak."""
        return np.minimum(scores, self._threshold * SCALE_CAP)

    def _fit_score_axis(self) -> None:
        x0, x1 = self.x_range()
        peaks = [float(t.bounds(x0, x1)[1][0]) for t in (self._live_score, self._history_score)]
        peak = max((p for p in peaks if np.isfinite(p)), default=0.0)
        cap = self._threshold * SCALE_CAP
        top = min(max(self._threshold * 1.5, peak * 1.1), cap * 1.05)
        if top != self._score_top:
            self._score_top = top
            self._set_y(self.score_plot, 0.0, top)
        if peak > cap:
            text = f"\u25b2 off scale: peak {peak:.1f}"
            if self.off_scale.textItem.toPlainText() != text:
                self.off_scale.setText(text)
            self.off_scale.setPos(x1, top)
            self.off_scale.show()
        else:
            self.off_scale.hide()
        self._place_words()  # the threshold line moved up or down the strip

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() == QEvent.Type.Gesture and isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture) and pinch.scaleFactor() > 0:
                self.zoom(1.0 / pinch.scaleFactor())
                event.accept()
                return True
        return False
