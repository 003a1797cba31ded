"""The trend plots' frame: sparse value axes, a cheap grid, and plot items set up for a fixed y range.

Why a grid of its own: pyqtgraph draws grid lines from the axis item, whose bounding box then covers the whole
plot, so every frame repainted all 17 axes with their tick labels (about 11 ms of a 35 ms frame in software
rendering, measured). Here the view box draws the few horizontal lines itself under the curves, and an axis is
only repainted when its own range changes (about once a second at most).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QLineF
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.ui import theme

GRID_COLOUR = "#b3b3b3"  # TEXT at 25 % over PANEL, opaque: no alpha blending per frame


class SparseAxis(pg.AxisItem):
    """A value axis that keeps its labels at least MIN_TICK_PX apart: a 50 px plot gets two or three numbers,
    not four stacked on top of each other."""

    MIN_TICK_PX = 20

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # pyqtgraph override
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or maxVal <= minVal or size <= 0:
            return levels
        px_per_unit = size / (maxVal - minVal)
        spacing = levels[0][0]
        while spacing * px_per_unit < self.MIN_TICK_PX:
            spacing *= 2
        return [(spacing, 0)]


class SteadyDateAxis(pg.DateAxisItem):
    """A time axis that re-renders its ticks only once they would move by half a pixel or more: following live
    data moves the view a fraction of a pixel per frame, and each render of a date axis costs about 2 ms."""

    def setRange(self, mn: float, mx: float) -> None:  # pyqtgraph override
        old0, old1 = getattr(self, "range", (0.0, 0.0))
        size = self.width() if self.orientation in ("bottom", "top") else self.height()
        if getattr(self, "picture", None) is not None and size > 0 and mx > mn and old1 > old0:
            half_px = 0.5 * (mx - mn) / size
            if abs(mn - old0) < half_px and abs(mx - old1) < half_px:
                return  # what is drawn is still right to the pixel
        super().setRange(mn, mx)


class GridViewBox(pg.ViewBox):
    """A view box that draws horizontal grid lines at its axis' tick values, under its curves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pyqtgraph's ViewBox arguments, passed through
        super().__init__(*args, **kwargs)
        self._levels: tuple[float, ...] = ()
        self._pen = QPen(QColor(GRID_COLOUR), 0)  # cosmetic 1 px

    def set_grid(self, levels: Sequence[float]) -> None:
        levels = tuple(float(v) for v in levels)
        if levels != self._levels:
            self._levels = levels
            self.update()

    def paint(self, p: QPainter, opt: QStyleOptionGraphicsItem, widget: QWidget | None) -> None:
        super().paint(p, opt, widget)
        if not self._levels:
            return
        (_, _), (y0, y1) = self.viewRange()
        r = self.rect()
        if y1 <= y0:
            return
        p.setPen(self._pen)
        scale = r.height() / (y1 - y0)
        for v in self._levels:
            y = r.bottom() - (v - y0) * scale
            if r.top() <= y <= r.bottom():
                p.drawLine(QLineF(r.left(), y, r.right(), y))


def make_plot(left_axis: pg.AxisItem | None = None, bottom_axis: pg.AxisItem | None = None) -> pg.PlotItem:
    axes = {"left": left_axis or SparseAxis("left")}
    if bottom_axis is not None:
        axes["bottom"] = bottom_axis
    plot = pg.PlotItem(viewBox=GridViewBox(), axisItems=axes)
    tick_font = theme.font(theme.FONT_SMALL_PX - 1)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(pg.mkPen(theme.BORDER))
        ax.setTextPen(pg.mkPen(theme.TEXT))
        # ticks outside the plot: an axis that reaches into the view box is repainted with it every frame
        ax.setStyle(tickFont=tick_font, tickTextOffset=4, tickLength=4)
        ax.enableAutoSIPrefix(False)  # else every range change re-renders the axis label's HTML
    plot.getAxis("left").setWidth(62)
    for name in ("top", "right"):  # hidden, but linked axes still re-render on every range change
        plot.getAxis(name).unlinkFromView()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=True, y=False)
    plot.disableAutoRange()  # y ranges are fitted by TrendPlots about once a second, not on every frame
    plot.setPreferredHeight(30)  # small, so the layout's stretch factors share out the height
    return plot


def hide_time_axis(plot: pg.PlotItem) -> None:
    """The score strip's time axis serves all plots: the others' are hidden and unlinked (costs nothing)."""
    plot.hideAxis("bottom")
    plot.getAxis("bottom").unlinkFromView()


def grid_levels(axis: pg.AxisItem, y0: float, y1: float, size_px: float) -> list[float]:
    """The major tick values the axis draws for this range: where the grid lines go."""
    if y1 <= y0 or size_px <= 0:
        return []
    levels = axis.tickValues(y0, y1, size_px)
    return list(levels[0][1]) if levels else []
