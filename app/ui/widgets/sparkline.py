"""A small anomaly-score trend drawn as the alarm rule sees it, painted directly (cheap enough for 50 tiles).

The rule (detection.alerts) raises when the score has stayed at or above the threshold for a minimum duration, so a
raw score that spikes over the line for a few seconds is not an alarm. The trace is therefore the score the rule
compares: at each moment the level the score has held for the whole minimum duration
(:func:`app.hmi_api.held_score`). It crosses the dashed threshold line exactly when the rule raises, and (with the
dotted clear line shown while the alert is active) falls below the clear level exactly when it clears. The part above
the threshold is drawn thick in the alarm colour while the asset is in alarm.

The y scale is linear up to the threshold (at a fixed height, so the line is always in the same place) and
logarithmic above it up to the peak, so an alarmed trace of 10x the threshold keeps its shape instead of becoming a
flat bar along the top edge. Paths are built once per change of data, size or scale, not on every paint.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.hmi_api import RuleState, held_score
from app.ui import theme

SPAN_S = 600.0  # ten minutes of score at one sample a second ...
MIN_POINTS = 60  # ... and never fewer samples than this, so a logger sampled once a minute still draws a trend
THRESHOLD_AT = 0.55  # the threshold line's height (fraction of the plot from the bottom)
_BACKGROUND = QColor("#f0f0f0")


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


def y_fraction(v: np.ndarray, threshold: float, top: float) -> np.ndarray:
    """Height (0 bottom .. 1 top) of each value: linear to the threshold, logarithmic from there up to ``top``."""
    v = np.asarray(v, dtype=float)
    low = THRESHOLD_AT * np.clip(v, 0.0, threshold) / threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        high = THRESHOLD_AT + (1.0 - THRESHOLD_AT) * np.log(np.maximum(v, threshold) / threshold) / math.log(
            top / threshold)
    return np.where(v > threshold, np.minimum(high, 1.0), low)


def _y_fraction_of(v: float, threshold: float, top: float) -> float:
    """:func:`y_fraction` of one value (no array round trip: called a few times per paint)."""
    if v <= threshold:
        return THRESHOLD_AT * max(v, 0.0) / threshold
    return min(THRESHOLD_AT + (1.0 - THRESHOLD_AT) * math.log(v / threshold) / math.log(top / threshold), 1.0)


@cache
def _font(px: int, bold: bool = False) -> QFont:
    return theme.font(px, bold)


class Sparkline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.history = ScoreHistory()
        self.threshold = 1.0
        self.rule: RuleState | None = None
        self.alarm_colour = theme.TRACE
        self.note = ""  # said over the trace instead of the rule's progress ("no data - engine stopped")
        self.labels = "full"  # "full" sentence, "short" ("alarm >= 1.25 for 20 s"), "none" (a MINI tile: lines only)
        self.held = np.empty(0)  # the score as the rule evaluates it, per history sample
        self.top = 2.0  # the value at the top edge
        self._paths: tuple[QPainterPath, float, float, float] | None = None  # (trace, y threshold, y clear, width)
        self._stale = False  # samples came in: the trace is worked out again at the next paint

    # -- inputs ------------------------------------------------------------------------------------
    def set_sample_period(self, period_s: float) -> None:
        """Widen the span for a slow source (the asset's measured period, from its status)."""
        span = max(SPAN_S, MIN_POINTS * period_s) if period_s > 0 else SPAN_S
        if span != self.history.span_s:
            self.history.span_s = span
            self._changed()

    def set_threshold(self, threshold: float) -> None:
        if threshold != self.threshold:
            self.threshold = threshold
            self._changed()

    def set_rule(self, rule: RuleState | None) -> None:
        """The asset's rule as it stands: its minimum duration shapes the trace, its progress is shown."""
        if rule == self.rule:
            return
        old = self.rule
        self.rule = rule
        if rule is not None:
            self.threshold = rule.threshold
        if old is None or rule is None or (old.min_s, old.min_n, old.threshold) != (rule.min_s, rule.min_n,
                                                                                     rule.threshold):
            self._changed()
        else:
            self.update()  # only the progress words or the clear line

    def set_alarm_colour(self, colour: str) -> None:
        if colour != self.alarm_colour:
            self.alarm_colour = colour
            self.update()

    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            self.update()

    def extend(self, ts: np.ndarray, scores: np.ndarray, deferred: bool = False) -> None:
        """New samples. ``deferred``: only keep them; the caller asks for the repaint (:meth:`update`) when it
        suits it (the Overview spreads 50 sparklines over several frames instead of one)."""
        self.history.extend(ts, scores)
        self._stale = True
        if not deferred:
            self.update()

    @property
    def stale(self) -> bool:
        """Samples arrived that are not drawn yet."""
        return self._stale

    def _changed(self) -> None:
        self._stale = True
        self.update()

    def _compute(self) -> None:
        """The score as the rule evaluates it, and the scale; once per change, at the paint that needs it."""
        self._stale = False
        h = self.history
        min_s, min_n = (self.rule.min_s, self.rule.min_n) if self.rule is not None else (0.0, 1)
        self.held = held_score(h.ts, h.scores, min_s, min_n)
        finite = self.held[np.isfinite(self.held)]
        peak = float(finite.max()) if len(finite) else 0.0
        # headroom in the compressed (log) scale: the peak sits at 85 % of the band above the threshold
        self.top = max(2.0 * self.threshold, self.threshold * (peak / self.threshold) ** (1 / 0.85)
                       if peak > self.threshold else 0.0)
        self._paths = None

    # -- geometry ----------------------------------------------------------------------------------
    def plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(3, 5, -3, -4)

    def y_of(self, value: float) -> float:
        """The widget y of a score value (the same scale the trace is drawn on)."""
        if self._stale:
            self._compute()
        r = self.plot_rect()
        return r.bottom() - _y_fraction_of(value, self.threshold, self.top) * r.height()

    def _build(self) -> tuple[QPainterPath, float, float, float]:
        r = self.plot_rect()
        ts, held = self.history.ts, self.held
        path = QPainterPath()
        if len(ts) >= 2 and np.isfinite(held).any():
            t1 = ts[-1]
            t0 = t1 - self.history.span_s
            step = max(1, len(ts) // max(1, int(r.width())))  # about one point per pixel column
            xs = r.left() + (ts[::step] - t0) / (t1 - t0) * r.width()
            v = held[::step]
            ys = r.bottom() - y_fraction(v, self.threshold, self.top) * r.height()
            ys[~np.isfinite(v)] = np.nan
            path = arrayToQPath(xs, ys, connect="finite")
        clear = self.rule.clear_level if self.rule is not None else 0.0
        return path, self.y_of(self.threshold), self.y_of(clear), float(self.width())

    # -- paint -------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # Qt override
        if self._stale:
            self._compute()
        if self._paths is None or self._paths[3] != self.width():
            self._paths = self._build()
        path, y_thr, y_clear, _ = self._paths
        r = self.plot_rect()
        p = QPainter(self)
        p.fillRect(self.rect(), _BACKGROUND)
        p.setPen(QPen(QColor(theme.BORDER), 1))
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        small = _font(theme.FONT_SMALL_PX - 3)
        p.setFont(small)
        rule = self.rule
        p.setPen(QPen(QColor(theme.THRESHOLD), 1.5, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(r.left(), y_thr), QPointF(r.right(), y_thr))
        words = self.labels != "none"
        if words:
            p.drawText(QRectF(r.left() + 2, y_thr - 15, r.width() - 4, 14), Qt.AlignmentFlag.AlignRight,
                       self._threshold_text())
        if rule is not None and rule.active:  # the alert clears only below this: show where
            p.setPen(QPen(QColor(theme.THRESHOLD), 1, Qt.PenStyle.DotLine))
            p.drawLine(QPointF(r.left(), y_clear), QPointF(r.right(), y_clear))
            if words and not self.note:
                p.drawText(QRectF(r.left() + 2, y_clear + 1, r.width() - 4, 14), Qt.AlignmentFlag.AlignRight,
                           f"clears < {rule.clear_level:.3g}")
        if words and self.top > 2.0 * self.threshold * 1.01:  # the compressed upper scale: how high the top is
            p.setPen(QColor(theme.TEXT_MUTED))
            p.drawText(QRectF(r.left() + 2, r.top() - 3, r.width() / 2, 14), Qt.AlignmentFlag.AlignLeft,
                       f"{self.top:.3g}")
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if path.isEmpty():
            p.setPen(QColor(theme.TEXT_MUTED))
            p.setFont(_font(theme.FONT_SMALL_PX - 2))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.note or "no score yet")
            p.end()
            return
        p.save()
        p.setClipRect(QRectF(r.left() - 3, y_thr, r.width() + 6, r.bottom() - y_thr + 4))
        p.setPen(QPen(QColor(theme.TRACE_HISTORY if self.note else theme.TRACE), 2))
        p.drawPath(path)
        p.setClipRect(QRectF(r.left() - 3, 0, r.width() + 6, y_thr))  # held above the threshold: the rule's alarm
        p.setPen(QPen(QColor(self.alarm_colour), 3.5))
        p.drawPath(path)
        p.restore()
        text = self.note or (rule.progress_text() if rule is not None and words else "")
        if text:  # on a patch of background, so the words stay readable over the trace
            font = _font(theme.FONT_SMALL_PX - 2, bold=True)
            p.setFont(font)
            box = QRectF(r.left() + 1, r.bottom() - 17, min(r.width() - 2, p.fontMetrics().horizontalAdvance(text)
                                                                 + 6), 17)
            p.fillRect(box, _BACKGROUND)
            p.setPen(QColor(theme.TEXT))
            p.drawText(box.adjusted(3, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        p.end()

    def _threshold_text(self) -> str:
        rule = self.rule
        if rule is None or rule.min_s <= 0:
            return f"threshold {self.threshold:g}"
        if self.labels == "short":
            return f"alarm \u2265 {self.threshold:g} for {rule.min_s:.0f} s"
        return f"alarm: held \u2265 {self.threshold:g} for {rule.min_s:.0f} s"
