"""A PIN pad with big digits (four a row, a tall Enter beside them: it fits a 1024 x 600 panel): masked entry, Clear,
Delete, Enter; locks with a countdown after wrong PINs (for the whole panel, or while a locked user is chosen)."""
from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.config import MAX_PIN_DIGITS
from app.ui import theme
from app.ui.widgets.buttons import touch_button

MAX_DIGITS = MAX_PIN_DIGITS
DISPLAY_HEIGHT = 60  # px: the PIN display (38 px digits)
PANEL_LOCKED = "Pad locked for {n} s - too many wrong PINs at this panel"


class PinPad(QWidget):
    sig_entered = Signal(str)
    """Enter was tapped with at least one digit: the PIN typed (the pad clears itself)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pin = ""
        self._locked_until = 0.0
        self._lock_text = PANEL_LOCKED
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.display = QLabel()
        self.display.setFont(theme.font(theme.FONT_HUGE_PX, bold=True))
        self.display.setFixedHeight(DISPLAY_HEIGHT)
        self.display.setStyleSheet(f"background: #ffffff; border: 2px solid {theme.BORDER}; padding: 0 12px;")
        lay.addWidget(self.display)
        # Four digits a row and a tall Enter beside them, as on a door pad: three rows of keys fit a 600 px panel
        # under the annunciation strip; keys grow to TOUCH_CRITICAL where there is room, never below TOUCH_MIN.
        grid = QGridLayout()
        grid.setSpacing(8)
        self.digit_buttons: dict[str, QPushButton] = {}
        for i, d in enumerate("12345678"):
            grid.addWidget(self._digit(d), i // 4, i % 4)
        grid.addWidget(self._digit("9"), 2, 0)
        grid.addWidget(self._digit("0"), 2, 1)
        self.delete_button = self._key(touch_button("Delete", size="critical"))
        self.delete_button.clicked.connect(self._backspace)
        grid.addWidget(self.delete_button, 2, 2)
        self.clear_button = self._key(touch_button("Clear", size="critical"))
        self.clear_button.clicked.connect(self.clear)
        grid.addWidget(self.clear_button, 2, 3)
        self.enter_button = self._key(touch_button("Enter", size="critical"))
        self.enter_button.setProperty("kind", "confirm")
        self.enter_button.setMaximumHeight(16_777_215)
        self.enter_button.clicked.connect(self._enter)
        grid.addWidget(self.enter_button, 0, 4, 3, 1)
        lay.addLayout(grid, 1)  # the keys take the room first, up to TOUCH_CRITICAL (the grid's maximum)
        self.message = QLabel("")
        self.message.setProperty("kind", "message")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # right under the keys
        lay.addWidget(self.message)
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._tick_lock)
        self._render()

    @staticmethod
    def _key(b: QPushButton) -> QPushButton:
        """A pad key: at least TOUCH_MIN high (gloves), up to TOUCH_CRITICAL where the panel has the room."""
        b.setMinimumHeight(theme.TOUCH_MIN)
        b.setMaximumHeight(theme.TOUCH_CRITICAL)
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        return b

    def _digit(self, d: str) -> QPushButton:
        b = self._key(touch_button(d, size="key"))
        b.clicked.connect(lambda: self.press(d))
        self.digit_buttons[d] = b
        return b

    def press(self, digit: str) -> None:
        if self.is_locked() or len(self._pin) >= MAX_DIGITS:
            return
        self._pin += digit
        self._render()

    def pin(self) -> str:
        return self._pin

    def clear(self) -> None:
        self._pin = ""
        self._render()

    def _backspace(self) -> None:
        self._pin = self._pin[:-1]
        self._render()

    def _enter(self) -> None:
        if not self._pin or self.is_locked():
            return
        pin, self._pin = self._pin, ""
        self._render()
        self.sig_entered.emit(pin)

    def show_message(self, text: str, alarm: bool = False) -> None:
        # a refused PIN is not a process alarm: bold slate text, never an alarm priority colour
        self.message.setStyleSheet(f"color: {theme.FAULT_BG}; font-weight: bold;" if alarm else
                                   f"color: {theme.TEXT};")
        self.message.setText(text)

    def lock(self, seconds: float, text: str = PANEL_LOCKED) -> None:
        """Disable the digits and count down (``text`` with ``{n}`` for the seconds left); unlocks itself."""
        self._locked_until = time.monotonic() + seconds
        self._lock_text = text
        self._pin = ""
        self._countdown.start()
        self._tick_lock()

    def unlock(self) -> None:
        """End a lock early (another user, who is not locked, was chosen)."""
        self._locked_until = 0.0
        self._countdown.stop()
        self.show_message("")
        self._render()

    def is_locked(self) -> bool:
        return time.monotonic() < self._locked_until

    def _tick_lock(self) -> None:
        left = self._locked_until - time.monotonic()
        if left <= 0:
            self._countdown.stop()
            self.show_message("Pad unlocked - enter your PIN")
        else:
            self.show_message(self._lock_text.format(n=math.ceil(left)), alarm=True)
        self._render()

    def _render(self) -> None:
        locked = self.is_locked()
        for b in (*self.digit_buttons.values(), self.clear_button, self.delete_button, self.enter_button):
            b.setEnabled(not locked)
        if locked:
            text = "LOCKED"
        elif self._pin:
            text = ("\u25cf " * len(self._pin)).strip()
        else:
            text = "<span style='color:#8a8a8a; font-size:24px; font-weight:normal'>type your PIN</span>"
        self.display.setText(text)
