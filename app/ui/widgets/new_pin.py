"""Choosing a new PIN on the big pad: typed twice, the two must match. The rules (length, no digit repeated
throughout) are checked here first so the user hears at once, and again by the engine, which has the last word."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ui.widgets.pin_pad import PinPad
from app.user_rules import check_new_pin


class NewPinEntry(QWidget):
    sig_chosen = Signal(str)
    """The same valid PIN was typed twice: the PIN (never logged, never shown)."""

    def __init__(self, title: str, min_digits: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._min_digits = min_digits
        self._first: str | None = None
        lay = QVBoxLayout(self)
        lay.setSpacing(8)
        self.title = QLabel(title)
        self.title.setProperty("kind", "title")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.prompt = QLabel()
        self.prompt.setProperty("kind", "large")
        lay.addWidget(self.prompt)
        self.pad = PinPad()
        self.pad.setMaximumWidth(560)
        self.pad.sig_entered.connect(self._entered)
        lay.addWidget(self.pad)
        self.restart()

    def restart(self, message: str = "") -> None:
        """Back to the first entry (after a refusal: ``message`` says why)."""
        self._first = None
        self.pad.clear()
        self.prompt.setText(f"New PIN ({self._min_digits} to 12 digits):")
        self.pad.show_message(message, alarm=bool(message))

    def _entered(self, pin: str) -> None:
        if self._first is None:
            try:
                check_new_pin(pin, self._min_digits)
            except ValueError as exc:
                self.pad.show_message(str(exc).capitalize(), alarm=True)
                return
            self._first = pin
            self.prompt.setText("Type the new PIN again:")
            self.pad.show_message("")
            return
        first, self._first = self._first, None
        if pin != first:
            self.restart("The two PINs differ - start again")
            return
        self.pad.show_message("")
        self.sig_chosen.emit(pin)
