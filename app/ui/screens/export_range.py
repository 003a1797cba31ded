"""The Export screen's range picker, by touch only: this shift or the previous one (the plant's shift pattern), a
day (today, yesterday, or stepped day by day), a custom from/to (day and hour steppers, no keyboard), or the last
8 h / 24 h / 7 days. Times are the plant's zone (the shift pattern's); the meaning of each range is
app/export/ranges.py's, shared with the command line.

Taps: a shift or last-hours range is one tap; a day a tap or two (plus one per day back); custom one tap, one for
the end to move (From is chosen at first), plus the steps (a step is a day or an hour).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.export import ranges
from app.export.ranges import ShiftChoice, TimeRange
from app.shifts import ShiftPattern
from app.ui import theme
from app.ui.widgets.buttons import touch_button


class RangeMode(Enum):
    THIS_SHIFT = "This shift"
    PREVIOUS_SHIFT = "Previous shift"
    DAY = "Day"
    CUSTOM = "Custom"
    LAST_8H = "Last 8 h"
    LAST_24H = "Last 24 h"
    LAST_7D = "Last 7 days"


_LAST_HOURS = {RangeMode.LAST_8H: 8.0, RangeMode.LAST_24H: 24.0, RangeMode.LAST_7D: 7 * 24.0}


def _button(text: str, checkable: bool = False) -> QPushButton:
    b = touch_button(text, checkable=checkable)
    b.setFont(theme.font())  # a plain button has no size in the style sheet
    return b


def _value_label(min_width: int) -> QLabel:
    label = QLabel("")
    label.setProperty("kind", "large")
    label.setMinimumWidth(min_width)
    label.setMinimumHeight(theme.TOUCH_MIN)
    return label


class Stepper(QWidget):
    """``[<] value [>]``: two touch buttons around a value label; ``step(-1 | +1)`` is called on a tap."""

    def __init__(self, back: str, forward: str, step: Callable[[int], None], min_width: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.back = _button(back)
        self.forward = _button(forward)
        self.value = _value_label(min_width)
        self.back.clicked.connect(lambda: step(-1))
        self.forward.clicked.connect(lambda: step(1))
        row.addWidget(self.back)
        row.addWidget(self.value)
        row.addWidget(self.forward)


class RangePicker(QWidget):
    """The mode buttons in one row and, below, what the mode needs (fixed height: nothing jumps)."""

    sig_changed = Signal()

    def __init__(self, pattern: Callable[[], ShiftPattern], clock: Callable[[], float] = time.time,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pattern, self._clock = pattern, clock
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        modes = QHBoxLayout()
        modes.setSpacing(8)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[RangeMode, QPushButton] = {}
        for mode in RangeMode:
            b = _button(mode.value, checkable=True)
            self.mode_group.addButton(b)
            self.mode_buttons[mode] = b
            modes.addWidget(b)
            b.clicked.connect(self._mode_tapped)
        lay.addLayout(modes)
        self.stack = QStackedWidget()
        self.stack.setFixedHeight(theme.TOUCH_MIN)  # one row whatever the mode: fits the 1024x600 panel
        # page 0: the chosen range in words (shifts, last hours)
        self.summary = QLabel("")
        self.summary.setProperty("kind", "large")
        self.stack.addWidget(self.summary)
        # page 1: a day
        day_page = QWidget()
        day_row = QHBoxLayout(day_page)
        day_row.setContentsMargins(0, 0, 0, 0)
        day_row.setSpacing(10)
        self.yesterday_button = _button("Yesterday")
        self.today_button = _button("Today")
        self.yesterday_button.clicked.connect(lambda: self._set_day(self._today() - dt.timedelta(days=1)))
        self.today_button.clicked.connect(lambda: self._set_day(self._today()))
        self.day_stepper = Stepper("- day", "+ day", lambda d: self._set_day(self.day + dt.timedelta(days=d)), 260)
        day_row.addWidget(self.yesterday_button)
        day_row.addWidget(self.today_button)
        day_row.addSpacing(20)
        day_row.addWidget(self.day_stepper)
        day_row.addStretch(1)
        self.stack.addWidget(day_page)
        # page 2: custom - which end (From / To, showing its value), then day and hour steps for that end
        custom_page = QWidget()
        custom_row = QHBoxLayout(custom_page)
        custom_row.setContentsMargins(0, 0, 0, 0)
        custom_row.setSpacing(8)
        self.end_group = QButtonGroup(self)
        self.from_button = _button("", checkable=True)
        self.to_button = _button("", checkable=True)
        self.from_button.setChecked(True)
        for b in (self.from_button, self.to_button):
            self.end_group.addButton(b)
            custom_row.addWidget(b, 3)
        custom_row.addSpacing(12)
        self.step_buttons: dict[str, QPushButton] = {}
        for text, delta in (("- day", dt.timedelta(days=-1)), ("+ day", dt.timedelta(days=1)),
                            ("- h", dt.timedelta(hours=-1)), ("+ h", dt.timedelta(hours=1))):
            b = _button(text)
            b.clicked.connect(lambda _=False, d=delta: self._step_end(d))
            self.step_buttons[text] = b
            custom_row.addWidget(b, 1)
        self.stack.addWidget(custom_page)
        lay.addWidget(self.stack)
        self.day = self._today()
        self.mode_buttons[RangeMode.THIS_SHIFT].setChecked(True)
        self.reset_custom()
        self._mode_tapped()

    # -- state -------------------------------------------------------------------------------------------
    def mode(self) -> RangeMode:
        return next((m for m, b in self.mode_buttons.items() if b.isChecked()), RangeMode.THIS_SHIFT)

    def zone(self) -> dt.tzinfo:
        return self._pattern().zone

    def _now_local(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), self._pattern().zone)

    def _today(self) -> dt.date:
        return self._now_local().date()

    def reset_custom(self) -> None:
        """Custom starts as the last 8 whole hours (steps move it from there); local wall times, whole hours."""
        now = self._now_local().replace(minute=0, second=0, microsecond=0, tzinfo=None)
        self.custom_to = now + dt.timedelta(hours=1)
        self.custom_from = self.custom_to - dt.timedelta(hours=8)

    def _step_end(self, delta: dt.timedelta) -> None:
        if self.from_button.isChecked():
            self.custom_from += delta
        else:
            self.custom_to += delta
        self.refresh()

    def chosen(self) -> TimeRange:
        """The range as it stands (a custom range may end before it starts: the request says so)."""
        mode, pattern, now = self.mode(), self._pattern(), self._clock()
        if mode is RangeMode.THIS_SHIFT:
            return ranges.shift_range(pattern, ShiftChoice.CURRENT, now)
        if mode is RangeMode.PREVIOUS_SHIFT:
            return ranges.shift_range(pattern, ShiftChoice.PREVIOUS, now)
        if mode is RangeMode.DAY:
            return ranges.day_range(self.day, pattern.zone)
        if mode is RangeMode.CUSTOM:
            zone = pattern.zone
            return ranges.custom_range(self.custom_from.replace(tzinfo=zone), self.custom_to.replace(tzinfo=zone))
        return ranges.last_hours(_LAST_HOURS[mode], now)

    # -- taps --------------------------------------------------------------------------------------------
    def _mode_tapped(self) -> None:
        mode = self.mode()
        self.stack.setCurrentIndex({RangeMode.DAY: 1, RangeMode.CUSTOM: 2}.get(mode, 0))
        self.refresh()

    def _set_day(self, day: dt.date) -> None:
        self.day = min(day, self._today())  # no day in the future: nothing is stored there yet
        self.refresh()

    def refresh(self) -> None:
        """Texts for the current state (also when the clock moved on: the shift may have changed)."""
        r = self.chosen()
        zone = self._pattern().zone
        start, end = dt.datetime.fromtimestamp(r.start, zone), dt.datetime.fromtimestamp(r.end, zone)
        hours = (r.end - r.start) / 3600
        span = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
        words = f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %H:%M} ({span})"
        shift = self.mode() in (RangeMode.THIS_SHIFT, RangeMode.PREVIOUS_SHIFT)
        self.summary.setText(f"{r.label} ({span})" if shift else words)
        odd = "" if round(hours) == 24 or self.mode() is not RangeMode.DAY else f" ({hours:.0f} h)"  # DST days
        self.day_stepper.value.setText(f"{self.day:%a %d %b %Y}{odd}")
        self.day_stepper.forward.setEnabled(self.day < self._today())
        self.from_button.setText(f"From {self.custom_from:%d %b %H}:00")
        self.to_button.setText(f"To {self.custom_to:%d %b %H}:00")
        self.sig_changed.emit()
