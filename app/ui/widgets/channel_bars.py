"""What drove the score: one horizontal bar per channel with its share, largest first, in words and numbers."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from acquisition.channels import INDEX, PUMP_CHANNELS
from app.ui import theme

ROW_PX = 28


class ChannelBars(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shares: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(ROW_PX * 3 + 8)

    def set_shares(self, shares: Sequence[tuple[str, float]]) -> None:
        self.shares = sorted(((str(c), float(s)) for c, s in shares), key=lambda cs: -cs[1])
        self.setFixedHeight(ROW_PX * max(1, len(self.shares)) + 8)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt override
        p = QPainter(self)
        p.setFont(theme.font(theme.FONT_SMALL_PX + 1))
        if not self.shares:
            p.setPen(QColor(theme.TEXT_MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no channel breakdown for this alarm")
            p.end()
            return
        label_w = min(250, int(self.width() * 0.45))
        value_w = 64
        bar_w = max(10, self.width() - label_w - value_w - 12)
        top = max(s for _, s in self.shares) or 1.0
        for i, (ch, share) in enumerate(self.shares):
            y = 4 + i * ROW_PX
            name = PUMP_CHANNELS[INDEX[ch]].label if ch in INDEX else ch
            p.setPen(QColor(theme.TEXT))
            p.drawText(QRectF(0, y, label_w - 6, ROW_PX - 4),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            w = bar_w * max(0.0, share) / top
            p.setPen(QPen(QColor("#000000"), 1))
            p.setBrush(QColor(theme.TRACE))
            p.drawRect(QRectF(label_w, y + 4, w, ROW_PX - 12))
            p.setPen(QColor(theme.TEXT))
            p.drawText(QRectF(label_w + w + 6, y, value_w + 20, ROW_PX - 4),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{share:.0%}")
        p.end()
