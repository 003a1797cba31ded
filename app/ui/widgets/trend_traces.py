"""One set of trend curves drawn from one envelope: the live or the stored samples of the channels or the score.

Keeps the drawn span ("cover") a little wider than the view, so following live data re-slices the envelope only
after a quarter of a window of scrolling, and a frame costs one envelope append and one ``setData`` per curve
of about two points per pixel column, views into preallocated arrays.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from app.peaks import PeakEnvelope

MARGIN = 0.25  # of the window, drawn beyond each edge of the view
COMPACT_AT = 4096  # buckets scrolled out on the left before the envelope's storage is compacted

Raw = tuple[np.ndarray, np.ndarray]  # ts (n,), values (rows, n)


class EnvelopeCurve(pg.PlotCurveItem):
    """A curve whose data bounds survive a view change: every frame moves the view, and pyqtgraph would redo
    nanmin/nanmax over x and y and map pixel vectors for each curve each time. The data bounds change only with
    the data; the one-pixel pen padding is taken from the view's range and size."""

    _boundingRect: QRectF | None  # pyqtgraph's cache of boundingRect(), None when stale

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._data_rect: tuple[float, float, float, float] | None = None
        super().__init__(*args, **kwargs)

    def invalidateBounds(self) -> None:  # pyqtgraph override; called on new data
        super().invalidateBounds()
        self._data_rect = None

    def viewTransformChanged(self) -> None:  # pyqtgraph override
        self._boundingRect = None  # the pixel padding moved; the data bounds did not
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:  # Qt override
        if self._boundingRect is None:
            x, y = self.xData, self.yData
            if self._data_rect is None:
                if x is None or not len(x):
                    return QRectF()
                y0, y1 = float(np.fmin.reduce(y)), float(np.fmax.reduce(y))
                if not (np.isfinite(y0) and np.isfinite(y1)):
                    return QRectF()
                self._data_rect = (float(x[0]), float(x[-1]), y0, y1)  # x is in time order
            x0, x1, y0, y1 = self._data_rect
            px = py = 0.0
            vb = self.getViewBox()
            if vb is not None:
                (vx0, vx1), (vy0, vy1) = vb.viewRange()
                px = (vx1 - vx0) / max(1.0, vb.width())
                py = (vy1 - vy0) / max(1.0, vb.height())
            self._boundingRect = QRectF(x0 - px, y0 - py, x1 - x0 + 2 * px, y1 - y0 + 2 * py)
        return self._boundingRect


class TraceSet:
    def __init__(self, curves: Sequence[tuple[EnvelopeCurve, int]], rows: int) -> None:
        self.curves = list(curves)
        self.env = PeakEnvelope(rows)
        self._raw: Raw = (np.empty(0), np.empty((rows, 0)))
        self.source: Callable[[], Raw] | None = None  # fresh raw samples for a rebuild (the live ring buffer)
        self.transform: Callable[[np.ndarray], np.ndarray] | None = None  # values as drawn (the score cap)
        self.cover = (np.inf, -np.inf)

    def raw(self) -> Raw:
        return self.source() if self.source is not None else self._raw

    def clear(self) -> None:
        self._raw = (np.empty(0), np.empty((self.env.rows, 0)))
        self.env.clear()
        self.redraw()

    def feed(self, ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The samples now held (``values`` (rows, n)); only those newer than the last feed are reduced.
        Returns per row (min, max) of what was added, for the caller's y-range check."""
        self._raw = (ts, values)
        env = self.env
        if env.dt <= 0 or not np.isfinite(self.cover[0]):
            return None  # no view yet: built on the first sync
        if len(env) == 0 or (len(ts) and ts[-1] < env.last_ts):  # fresh, or not an extension: start over
            env.rebuild(env.dt, ts, values, t_from=self.cover[0])
            self.redraw()
            return env.bounds(self.cover[0], self.cover[1])
        added = env.append(ts, values)
        if added is None:
            return None
        self.redraw()
        return added

    def replace(self, ts: np.ndarray, values: np.ndarray) -> None:
        """New raw samples that do not extend the old ones (stored history)."""
        self._raw = (ts, values)
        self.env.clear()
        if self.env.dt > 0 and np.isfinite(self.cover[0]):
            self.env.rebuild(self.env.dt, ts, values, t_from=self.cover[0])
        self.redraw()

    def sync(self, x0: float, x1: float, px: float) -> bool:
        """Follow a new view [x0, x1] drawn ``px`` pixels wide; True if what is drawn changed."""
        width = x1 - x0
        if width <= 0 or px <= 0:
            return False
        dt = width / px
        margin = MARGIN * width
        env = self.env
        c0, c1 = self.cover
        rebuild = abs(dt - env.dt) > 1e-9 * dt
        if not rebuild and x0 - margin / 2 < env.first_ts:
            ts = self.raw()[0]
            rebuild = bool(len(ts)) and ts[0] < env.first_ts  # older samples exist that the envelope lacks
        if rebuild:
            self.cover = (x0 - margin, x1 + margin)
            ts, values = self.raw()
            env.rebuild(dt, ts, values, t_from=self.cover[0])
            self.redraw()
            return True
        if c0 <= x0 and c1 >= x1 and c0 >= x0 - 2 * margin and c1 <= x1 + 2 * margin:
            return False  # still drawn wide enough, and not too wide
        self.cover = (x0 - margin, x1 + margin)
        if env.index_of(self.cover[0]) > COMPACT_AT:
            env.drop_before(self.cover[0])
        self.redraw()
        return True

    def redraw(self) -> None:
        env = self.env
        i0 = env.index_of(self.cover[0])
        i1 = env.index_of(self.cover[1] + env.dt) if np.isfinite(self.cover[1]) else 0
        x, y = env.xy(i0, i1)
        for curve, row in self.curves:
            yy = y[row] if len(x) else x
            curve.setData(x, yy if self.transform is None or not len(x) else self.transform(yy))

    def bounds(self, x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
        return self.env.bounds(x0, x1)
