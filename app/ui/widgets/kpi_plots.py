"""The KPI screen's two plots, drawn from app/kpi/plot_data.py (the handover PDF draws the same data):

- :class:`RatePlotWidget`: alarms per 10 minutes over the range as bars, the standard's bands as lines (1
  acceptable dotted, 2 manageable dashed, 10 flood solid: dark grey, no alarm colour, a KPI is not an alarm; the
  title is their legend, since 1 and 2 lie too close for labels on the lines); for merged bins (7 and 30 days) the
  busiest 10 minutes of each bin as a light bar behind its mean.
- :class:`BadActorWidget`: the top-10 sources as horizontal bars of their share of the load, most on top.

Both are for looking at, not for exploring: no pan, zoom or context menu (a glove on the plot does nothing).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.kpi.plot_data import BarPlot, RatePlot
from app.ui import theme
from app.ui.widgets.trend_axes import SparseAxis, SteadyDateAxis

BAND_STYLE = {"acceptable": Qt.PenStyle.DotLine, "manageable": Qt.PenStyle.DashLine, "flood": Qt.PenStyle.SolidLine}
AXIS_FONT_PX = theme.FONT_SMALL_PX - 1
PEAK_BRUSH = "#a9b3bd"  # the busiest 10 minutes behind the mean: TRACE lightened, still no alarm colour
LEGEND = {"acceptable": "\u2508", "manageable": "\u254c", "flood": "\u2501"}  # box-drawing dashes (DejaVu has them)


def _still(plot: pg.PlotItem) -> None:
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    plot.disableAutoRange()
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(pg.mkPen(theme.BORDER))
        ax.setTextPen(pg.mkPen(theme.TEXT))
        ax.setStyle(tickFont=theme.font(AXIS_FONT_PX), tickTextOffset=4, tickLength=4)
        ax.enableAutoSIPrefix(False)


class _Still(pg.GraphicsLayoutWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.ci.setContentsMargins(4, 4, 8, 4)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)


class RatePlotWidget(_Still):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotItem(axisItems={"left": SparseAxis("left"), "bottom": SteadyDateAxis()})
        _still(self.plot)
        self.plot.getAxis("left").setWidth(40)
        self.plot.setTitle("")
        self.addItem(self.plot)
        self.peaks = pg.BarGraphItem(x0=[], width=[], height=[], brush=PEAK_BRUSH, pen=pg.mkPen(None))
        self.plot.addItem(self.peaks)
        self.bars = pg.BarGraphItem(x0=[], width=[], height=[], brush=theme.TRACE, pen=pg.mkPen(None))
        self.plot.addItem(self.bars)
        self.band_lines: dict[str, pg.InfiniteLine] = {}
        self.data: RatePlot | None = None
        self.note = pg.TextItem("", color=theme.TEXT, anchor=(1, 0), fill=theme.PANEL)
        self.note.setFont(theme.font(theme.FONT_SMALL_PX))
        self.plot.addItem(self.note, ignoreBounds=True)

    def show_plot(self, data: RatePlot, x_end: float | None = None) -> None:
        """``x_end``: where the time axis ends if later than the data (a running shift: its planned end)."""
        self.data = data
        bins = data.bins
        x0 = np.array([b.start_ts for b in bins])
        x1 = np.array([b.end_ts for b in bins])
        self.bars.setOpts(x0=x0, width=(x1 - x0) * 0.9, height=np.array([b.mean for b in bins]))
        merged = data.periods_per_bin > 1
        self.peaks.setOpts(x0=x0, width=(x1 - x0) * 0.9,
                           height=np.array([min(b.peak, data.y_top) for b in bins], dtype=float))
        self.peaks.setVisible(merged)
        for band in data.bands:  # made once; the bands never move
            if band.name not in self.band_lines:
                pen = pg.mkPen(theme.THRESHOLD, width=2, style=BAND_STYLE.get(band.name, Qt.PenStyle.SolidLine))
                line = pg.InfiniteLine(pos=band.value, angle=0, pen=pen, movable=False)
                self.plot.addItem(line, ignoreBounds=True)
                self.band_lines[band.name] = line
            self.band_lines[band.name].setValue(band.value)
        t0 = bins[0].start_ts if bins else 0.0
        t1 = max(bins[-1].end_ts if bins else t0 + 1.0, x_end or 0.0)
        self.plot.setXRange(t0, t1, padding=0.01)
        self.plot.setYRange(0, data.y_top, padding=0)
        legend = "  ".join(f"{LEGEND.get(b.name, '-')} {b.text}" for b in data.bands)
        self.plot.setTitle(f"Alarms per 10 min   {legend}", size=f"{theme.FONT_SMALL_PX}px", color=theme.TEXT)
        self.note.setText(f"peak {data.peak} \u2191" if data.clipped else "")
        self.note.setPos(t1, data.y_top)


class BadActorWidget(_Still):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotItem(axisItems={"left": pg.AxisItem("left"), "bottom": SparseAxis("bottom")})
        _still(self.plot)
        self.plot.getAxis("left").setWidth(150)
        self.plot.hideAxis("bottom")  # each bar says its share: the height goes to the ten rows
        self.addItem(self.plot)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=[], width=[], brush=theme.TRACE, pen=pg.mkPen(None))
        self.plot.addItem(self.bars)
        self.data: BarPlot | None = None
        self.labels: list[pg.TextItem] = []

    def show_plot(self, data: BarPlot) -> None:
        self.data = data
        n = len(data.bars)
        rows = max(n, 10)
        y = (rows - 1 - np.arange(n)).astype(float)  # most on top; fewer than 10 stay at the top
        shares = np.array([b.share * 100 for b in data.bars], dtype=float)
        self.bars.setOpts(x0=np.zeros(n), y=y, height=np.full(n, 0.7), width=shares)
        self.plot.getAxis("left").setTicks([[(float(yy), b.label) for yy, b in zip(y, data.bars, strict=True)]])
        top = float(shares.max()) if n else 10.0
        while len(self.labels) < n:  # made once and reused: a new TextItem costs ~1 ms of the GUI thread
            t = pg.TextItem("", color=theme.TEXT, anchor=(0, 0.5))
            t.setFont(theme.font(AXIS_FONT_PX))
            self.plot.addItem(t)
            self.labels.append(t)
        for i, t in enumerate(self.labels):
            if i < n:
                b = data.bars[i]
                t.setText(f"{b.share * 100:.0f} %")
                t.setPos(b.share * 100 + top * 0.02, float(y[i]))
            t.setVisible(i < n)
        self.plot.setXRange(0, top * 1.25, padding=0)
        self.plot.setYRange(-0.6, rows - 0.4, padding=0)
        title = f"Top {n}: {data.top_share * 100:.0f} % of all alarms" if n else "No alarms"
        self.plot.setTitle(title, size=f"{theme.FONT_SMALL_PX}px", color=theme.TEXT)


__all__ = ["BadActorWidget", "RatePlotWidget"]
