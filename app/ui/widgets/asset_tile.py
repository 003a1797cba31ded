"""One asset on the Overview: running state, health, score sparkline against the threshold, alarm badge.

The whole tile is one big touch target (tap = open its Trends). Grey when all is well; a thick border in the
worst priority colour plus the priority shape and a word when it has alarms. Faults of the instrumentation (a
device not communicating, channels stale or bad) are diagnostics: slate with a word ("COMM FAIL", "STALE"),
never a priority colour, and a value that is not good is shown as its quality word instead of a number.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from acquisition.channels import INDEX, PUMP_CHANNELS
from acquisition.quality import Quality
from app.hmi_api import Alarm, AlarmState, AssetHealth, AssetStatus, Priority, Regime, most_urgent
from app.ui import theme
from app.ui.alarm_look import badge_style, draw_symbol, priority_text, summary_look
from app.ui.quality_look import (
    COMM_FAIL_WORD,
    DIAGNOSTIC_WORD,
    NO_DATA_WORD,
    bad_channels,
    chip_html,
    quality_code,
    reading,
)
from app.ui.widgets.sparkline import Sparkline

TILE_WIDTH = 380
TILE_HEIGHT = 290
_REGIME_WORDS = {Regime.RUNNING: "\u25cf Running", Regime.STOPPED: "\u25cb Stopped",
                 Regime.STARTING: "\u25d0 Starting", Regime.TRANSITION: "\u25d1 Changing speed"}
H = AssetHealth
_BEFORE_LIST = summary_look(Priority.HIGH, True)  # an alarm before the alarm list says which: loud, high
_HEALTH = {  # health -> (word, background, text colour); saturated only when abnormal
    H.OK: ("Normal", "transparent", theme.TEXT_MUTED),
    H.WARNING: ("! WARNING", "#ffffff", "#000000"),  # near the threshold or unacknowledged: no alarm colour
    H.ALARM: ("\u25a0 ALARM", _BEFORE_LIST.background, _BEFORE_LIST.foreground),  # then its worst alarm's look
    H.COMMISSIONING: ("Learning normal...", "transparent", theme.TEXT_MUTED),
    H.STOPPED: ("Stopped", "transparent", theme.TEXT_MUTED),
    H.OUT_OF_SERVICE: ("OUT OF SERVICE", theme.OUT_OF_SERVICE_BG, theme.OUT_OF_SERVICE_TEXT),
    H.NO_DATA: (NO_DATA_WORD, theme.FAULT_BG, theme.FAULT_TEXT),  # a diagnostic: slate, never a priority colour
}
_SHOWN_VALUES = ("flow", "pressure")
_PRIORITY_GLYPH = {Priority.HIGH: "\u25a0", Priority.MEDIUM: "\u25b2", Priority.LOW: "\u25c6"}  # alarm_look's shapes


class AssetTile(QFrame):
    sig_open = Signal(str)
    """The tile was tapped: the asset to open in Trends."""

    def __init__(self, asset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.asset = asset
        self.setObjectName("assetTile")
        self.setFixedSize(TILE_WIDTH, TILE_HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(6)
        top = QHBoxLayout()
        self.name = QLabel(asset)
        self.name.setProperty("kind", "title")
        top.addWidget(self.name, 1)
        self.badge_icon = QLabel()
        self.badge_icon.setFixedSize(34, 34)
        top.addWidget(self.badge_icon)
        lay.addLayout(top)
        self.badge = QLabel("No alarms")
        self.badge.setProperty("kind", "muted")
        lay.addWidget(self.badge)
        row = QHBoxLayout()
        self.regime = QLabel("-")
        self.regime.setProperty("kind", "large")
        self.health = QLabel("-")
        self.health.setFont(theme.font(theme.FONT_PX, bold=True))
        self.health.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.health.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.regime, 1)
        row.addWidget(self.health)
        lay.addLayout(row)
        self.learning = QLabel("")  # "Learning normal: 37 of 120 samples; flow unsteady" (hidden once learnt)
        self.learning.setWordWrap(True)
        self.learning.setProperty("kind", "muted")
        self.learning.hide()
        lay.addWidget(self.learning)
        self.quality = QLabel("")  # which channels are not good (hidden while all are)
        self.quality.setTextFormat(Qt.TextFormat.RichText)
        self.quality.setWordWrap(True)
        self.quality.setProperty("kind", "muted")
        self.quality.hide()
        lay.addWidget(self.quality)
        self.sparkline = Sparkline()
        lay.addWidget(self.sparkline, 1)
        bottom = QHBoxLayout()
        self.score = QLabel("score -")
        self.score.setFont(theme.font(theme.FONT_PX, bold=True))
        self.values = QLabel("")
        self.values.setTextFormat(Qt.TextFormat.RichText)
        self.values.setProperty("kind", "muted")
        self.values.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bottom.addWidget(self.score)
        bottom.addWidget(self.values, 1)
        lay.addLayout(bottom)
        self._alarms: list[Alarm] = []
        self._process_active = self._diagnostic_active = self._unacked = False
        self._held = 0
        self._worst: Priority | None = None
        self._border = ""
        self._set_border(theme.BORDER, 1)

    # -- updates ------------------------------------------------------------------------------------
    def set_status(self, status: AssetStatus, threshold: float) -> None:
        self.sparkline.set_threshold(threshold)
        self.sparkline.set_sample_period(status.sample_period_s)
        self.regime.setText(_REGIME_WORDS[status.regime])
        lost = status.comm_lost
        word, css = self._health_look(status.health, lost)
        if self.health.text() != word or self.health.property("css") != css:
            self.health.setProperty("css", css)
            self.health.setText(word)
            self.health.setStyleSheet(f"{css} padding: 3px 8px;")
            self.health.adjustSize()
        self.sparkline.alarm_colour = (theme.priority_colour(self._worst) if status.health is H.ALARM and self._worst
                                       else theme.TRACE)
        progress = status.learning_progress
        text = progress.text() if progress is not None and status.health is H.COMMISSIONING else ""
        if self.learning.text() != text:
            self.learning.setText(text)
            self.learning.setVisible(bool(text))
        quality = status.quality
        self._show_values(status.values, quality)
        self._show_quality(quality, lost)

    def _health_look(self, health: AssetHealth, lost: bool) -> tuple[str, str]:
        """(word, style sheet) of the health badge."""
        if lost and health is not H.OUT_OF_SERVICE:  # the device, not the process: a diagnostic
            return COMM_FAIL_WORD, theme.fault_style()
        if health is H.ALARM and not self._process_active and self._diagnostic_active:
            return DIAGNOSTIC_WORD, theme.fault_style()  # only the instrumentation is in alarm
        if health is H.ALARM and self._worst is not None:  # the look of its worst alarm, as everywhere
            worst = self._worst
            return f"{_PRIORITY_GLYPH[worst]} ALARM", badge_style(summary_look(worst, self._unacked))
        word, bg, fg = _HEALTH[health]
        if health is H.NO_DATA:
            return word, theme.fault_style()
        border = "2px solid #000000" if bg != "transparent" else "none"
        return word, f"background: {bg}; color: {fg}; border: {border}; border-radius: 4px;"

    def _show_values(self, values: np.ndarray, quality: np.ndarray | None) -> None:
        """Flow and pressure; a channel that is not good shows its quality word, never a number."""
        if quality is not None and (quality == Quality.COMM_FAIL).all():  # one word for the whole device
            html = f"{chip_html('COMM FAIL')} no values"
            if self.values.text() != html:
                self.values.setText(html)
            return
        parts = []
        for name in _SHOWN_VALUES:
            i = INDEX[name]
            text, good = reading(float(values[i]), quality_code(quality, i))
            unit = PUMP_CHANNELS[i].unit
            parts.append(f"{text} {unit}" if good or text == "\u2014" else f"{chip_html(text)} {unit}")
        html = "&nbsp;&nbsp;&nbsp;".join(parts)
        if self.values.text() != html:
            self.values.setText(html)

    def _show_quality(self, quality: np.ndarray | None, lost: bool) -> None:
        if lost:
            html = f"{chip_html('COMM FAIL')} device not communicating: no values"
        else:
            bad = bad_channels(quality)
            html = "&nbsp; ".join(f"{chip_html(word)} {labels[0]}" + (f" +{len(labels) - 1} more" if len(labels) > 1
                                                                        else "")
                                  for word, labels in bad.items())
        if self.quality.text() != html:
            self.quality.setText(html)
        self.quality.setVisible(bool(html))

    def add_samples(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """Live samples: the sparkline and the latest score (values and their quality come with the status)."""
        self.sparkline.extend(ts, scores)
        if not len(ts):
            return
        score = scores[-1]
        self.score.setText("score -" if not np.isfinite(score) else f"score {score:.2f}")

    def set_alarms(self, alarms: Sequence[Alarm], blink_on: bool = True) -> None:
        """Alarms of this asset; only annunciated ones (UNACK, ACKED, RTNUN) count for the badge and colours,
        as they do for the engine's ``AssetStatus`` counts (app/alarm_model.py)."""
        self._alarms = [a for a in alarms if a.annunciated]
        active = [a for a in self._alarms if a.active] or self._alarms
        self._worst = most_urgent(a.priority for a in active)
        self._held = sum(1 for a in alarms if a.state.held)
        self._unacked = any(a.unacknowledged for a in self._alarms)
        self._process_active = any(a.active and not a.diagnostic for a in self._alarms)
        self._diagnostic_active = any(a.active and a.diagnostic for a in self._alarms)
        self.blink(blink_on)

    def blink(self, phase_on: bool) -> None:
        shown = self._alarms
        if not shown:
            self.badge_icon.clear()
            held = self._held
            self.badge.setText(f"{held} alarm{'s' if held != 1 else ''} shelved / suppressed / out of service"
                               if held else "No alarms")
            self._set_border(theme.BORDER, 1)
            return
        worst = most_urgent(a.priority for a in shown) or Priority.LOW
        unacked = [a for a in shown if a.unacknowledged]
        state = AlarmState.UNACK if unacked else AlarmState.ACKED
        self.badge_icon.setPixmap(draw_symbol(worst, state, 34, phase_on))
        diagnostic = sum(1 for a in shown if a.diagnostic)
        process = len(shown) - diagnostic
        counts = [f"{process} alarm{'s' if process != 1 else ''}"] if process else []
        if diagnostic:  # about the instrumentation, not the process: said so in words
            counts.append(f"{diagnostic} diagnostic")
        text = f"{priority_text(worst)} - {' + '.join(counts)}"
        if unacked:  # in full when it fits the tile, else as the state word the alarm list uses
            full = f"{text}, {len(unacked)} unacknowledged"
            fits = self.badge.fontMetrics().horizontalAdvance(full) <= self.width() - 30
            text = full if fits else f"{text}, {len(unacked)} UNACK"
        if self.badge.text() != text:
            self.badge.setText(text)
        look = summary_look(worst, bool(unacked))  # loud border while any is unacknowledged, calm after
        self._set_border(look.edge, theme.UNACK_BORDER_PX if unacked else theme.ACKED_BORDER_PX,
                         pad=0 if unacked else theme.UNACK_BORDER_PX - theme.ACKED_BORDER_PX)

    def _set_border(self, colour: str, width: int, pad: int = 0) -> None:
        """``pad``: padding inside a thinner border, so acknowledging does not move the tile's contents."""
        style = (f"QFrame#assetTile {{ background: {theme.PANEL}; border: {width}px solid {colour}; "
                 f"border-radius: 8px; padding: {pad}px; }}")
        if style != self._border:
            self._border = style
            self.setStyleSheet(style)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.sig_open.emit(self.asset)
        super().mouseReleaseEvent(event)
