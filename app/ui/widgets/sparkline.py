"""A small anomaly-score trend against its threshold, painted directly (cheap enough for 50 tiles).

The line is dark grey; samples above the threshold get a dot, drawn in the alarm colour only while the asset is
in alarm (single spikes are not alarms and stay grey); the threshold is a dashed line with its value, so the tile
reads "how close to alarming" at a glance.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.ui import theme

SPAN_S = 600.0  # ten minutes of score at one sample a second ...
MIN_POINTS = 60  # ... and never fewer samples than this, so a logger sampled once a minute still draws a trend


class ScoreHistory:
    """The last ``span_s`` of (ts, score) for one asset, capped in points; appended from live samples."""

    def __init__(self, span_s: float = SPAN_S, max_points: int = 4000) -> None:
        self.span_s = span_s
        self._max = max_points
        self.ts = np.empty(0)
        self.scores = np.empty(0)

    def extend(self, ts: np.ndarray, scores: np.ndarray) -> None:
        self.ts = np.concatenate((self.ts, ts))
        self.scores = np.concatenate((self.scores, scores))
        if len(self.ts):
            keep = self.ts > self.ts[-1] - self.span_s
            self.ts, self.scores = self.ts[keep][-self._max:], self.scores[keep][-self._max:]


class Sparkline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(70)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.history = ScoreHistory()
        self.threshold = 1.0
        self.alarm_colour = theme.TRACE

    def set_sample_period(self, period_s: float) -> None:
        """Widen the span for a slow source (the asset's measured period, from its status)."""
        span = max(SPAN_S, MIN_POINTS * period_s) if period_s > 0 else SPAN_S
        if span != self.history.span_s:
            self.history.span_s = span
            self.update()

    def set_threshold(self, threshold: float) -> None:
        if threshold != self.threshold:
            self.threshold = threshold
            self.update()

    def extend(self, ts: np.ndarray, scores: np.ndarray) -> None:
        self.history.extend(ts, scores)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(2, 4, -2, -4)
        p.fillRect(self.rect(), QColor("#f0f0f0"))
        p.setPen(QPen(QColor(theme.BORDER), 1))
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        ts, sc = self.history.ts, self.history.scores
        finite = np.isfinite(sc)
        # Up to 3x the threshold: a score of 15 must not squash the normal range into the bottom pixel row;
        # anything higher is drawn at the top edge.
        peak = float(np.nanmax(sc)) * 1.1 if finite.any() else 0.0
        y_max = min(max(self.threshold * 1.6, peak), self.threshold * 3)

        def y_of(v: float) -> float:
            return r.bottom() - (min(v, y_max) / y_max) * r.height()

        y_thr = y_of(self.threshold)
        pen = QPen(QColor(theme.THRESHOLD), 1.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(r.left(), y_thr), QPointF(r.right(), y_thr))
        p.setFont(theme.font(theme.FONT_SMALL_PX - 2))
        p.drawText(QRectF(r.left() + 4, y_thr - 18, r.width() - 8, 16), Qt.AlignmentFlag.AlignRight,
                   f"threshold {self.threshold:g}")
        if len(ts) < 2 or not finite.any():
            p.setPen(QColor(theme.TEXT_MUTED))
            p.setFont(theme.font(theme.FONT_SMALL_PX))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "no score yet")
            p.end()
            return
        t0, t1 = ts[-1] - self.history.span_s, ts[-1]
        step = max(1, len(ts) // max(1, int(r.width())))  # about one point per pixel column
        xs = r.left() + (ts[::step] - t0) / (t1 - t0) * r.width()
        ys = sc[::step]
        normal = QPainterPath()
        above = QPainterPath()
        pen_down = False
        for x, v in zip(xs, ys, strict=True):
            if not np.isfinite(v):
                pen_down = False
                continue
            pt = QPointF(float(x), y_of(float(v)))
            if pen_down:
                normal.lineTo(pt)
            else:
                normal.moveTo(pt)
                pen_down = True
            if v >= self.threshold:
                above.addEllipse(pt, 2.2, 2.2)
        p.setPen(QPen(QColor(theme.TRACE), 2))
        p.drawPath(normal)
        p.setPen(QPen(QColor(self.alarm_colour), 3))
        p.setBrush(QColor(self.alarm_colour))
        p.drawPath(above)
        p.end()
