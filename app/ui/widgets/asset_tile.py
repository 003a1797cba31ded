"""One asset on the Overview: running state, health, score sparkline against the threshold, alarm badge.

The whole tile is one big touch target (tap = open its Trends). Grey when all is well; a thick border in the
worst priority colour plus the priority shape and a word when it has alarms.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from acquisition.channels import INDEX, PUMP_CHANNELS
from app.ui import theme
from app.ui.alarm_look import ANNUNCIATED, draw_symbol, priority_text, state_value
from app.ui.widgets.sparkline import Sparkline

TILE_WIDTH = 380
TILE_HEIGHT = 290
_PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1}
_REGIME_WORDS = {"running": "\u25cf Running", "stopped": "\u25cb Stopped", "starting": "\u25d0 Starting",
                 "transition": "\u25d1 Changing speed"}
_HEALTH = {  # health -> (word, background, text colour); saturated only when abnormal
    "ok": ("Normal", "transparent", theme.TEXT_MUTED),
    "warning": ("\u25b2 WARNING", theme.MEDIUM, "#000000"),
    "alarm": ("\u25a0 ALARM", theme.HIGH, "#ffffff"),
    "commissioning": ("Learning normal...", "transparent", theme.TEXT_MUTED),
    "stopped": ("Stopped", "transparent", theme.TEXT_MUTED),
    "out of service": ("OUT OF SERVICE", "#6a6a6a", "#ffffff"),
}
_SHOWN_VALUES = ("flow", "pressure", "current")


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
        self.sparkline = Sparkline()
        lay.addWidget(self.sparkline, 1)
        self.values = QLabel("")
        self.values.setProperty("kind", "muted")
        lay.addWidget(self.values)
        self._alarms: list[Any] = []
        self._border = ""
        self._set_border(theme.BORDER, 1)

    # -- updates ------------------------------------------------------------------------------------
    def set_status(self, status: Any, threshold: float) -> None:
        self.sparkline.set_threshold(threshold)
        self.regime.setText(_REGIME_WORDS.get(status.regime, status.regime))
        word, bg, fg = _HEALTH.get(status.health, (status.health, "transparent", theme.TEXT))
        if self.health.text() != word:
            self.health.setText(word)
            self.health.setStyleSheet(f"background: {bg}; color: {fg}; border-radius: 4px; padding: 3px 8px;")
            self.health.adjustSize()
        score = "-" if status.score is None else f"{status.score:.2f}"
        vals = np.asarray(status.values, dtype=float)
        parts = [f"score {score}"]
        for name in _SHOWN_VALUES:
            ch = PUMP_CHANNELS[INDEX[name]]
            v = vals[INDEX[name]] if len(vals) > INDEX[name] else np.nan
            parts.append(f"{name} {'-' if not np.isfinite(v) else f'{v:.1f}'} {ch.unit}")
        self.values.setText("   ".join(parts))

    def add_scores(self, ts: np.ndarray, scores: np.ndarray) -> None:
        self.sparkline.extend(ts, scores)

    def set_alarms(self, alarms: Sequence[Any], blink_on: bool = True) -> None:
        """Alarms of this asset; only annunciated ones (UNACK, ACKED, RTNUN) count for the badge."""
        self._alarms = [a for a in alarms if state_value(a.state) in ANNUNCIATED]
        self.blink(blink_on)

    def blink(self, phase_on: bool) -> None:
        shown = self._alarms
        if not shown:
            self.badge_icon.clear()
            self.badge.setText("No alarms")
            self._set_border(theme.BORDER, 1)
            return
        worst = max(shown, key=lambda a: _PRIORITY_RANK.get(a.priority, 0))
        unacked = [a for a in shown if state_value(a.state) in ("UNACK", "RTNUN")]
        state = "UNACK" if unacked else "ACKED"
        self.badge_icon.setPixmap(draw_symbol(worst.priority, state, 34, phase_on))
        n = len(shown)
        text = f"{priority_text(worst.priority)} - {n} alarm{'s' if n != 1 else ''}"
        if unacked:
            text += f", {len(unacked)} unacknowledged"
        self.badge.setText(text)
        self._set_border(theme.priority_colour(worst.priority), 5)

    def _set_border(self, colour: str, width: int) -> None:
        style = (f"QFrame#assetTile {{ background: {theme.PANEL}; border: {width}px solid {colour}; "
                 f"border-radius: 8px; }}")
        if style != self._border:
            self._border = style
            self.setStyleSheet(style)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.sig_open.emit(self.asset)
        super().mouseReleaseEvent(event)
