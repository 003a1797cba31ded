"""A date chosen by touch: one month of day buttons (glove-sized), the month before/after, Cancel. A tap on a day is
the choice. Days after ``latest`` (the plant's today) cannot be chosen: nothing has happened on them yet.

Fits a 1024 x 600 panel: no title row (the month is the title), six rows of 56 px days.

Building and styling 42 day buttons costs the GUI thread tens of milliseconds, so a screen keeps one panel and
builds it ahead (app/ui/widgets/kept_panels.py): made with ``ahead=True`` it is only the month row, and each
:meth:`DatePanel.build_step` adds (and styles) one week of days. :meth:`DatePanel.open_on` points it at the shown
and latest days at every open; a panel opened before it was complete is completed there and then."""
from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.overlay import OverlayHost

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
CELLS = 42  # 6 weeks x 7 days: every month fits
WEEK = 7


class DatePanel(QWidget):
    def __init__(self, host: OverlayHost, shown: date, latest: date, on_done: Callable[[date], None],
                 what: str = "Shift on", ahead: bool = False) -> None:
        super().__init__()
        self._host, self._on_done, self._latest, self._what = host, on_done, latest, what
        self._month = date(min(shown, latest).year, min(shown, latest).month, 1)
        self._chosen = shown
        self.day_buttons: dict[date, QPushButton] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        top = QHBoxLayout()
        self.earlier_button = touch_button("\u25c0")
        self.earlier_button.clicked.connect(lambda: self.show_month(-1))
        self.month_label = QLabel("")
        self.month_label.setProperty("kind", "title")
        self.later_button = touch_button("\u25b6")
        self.later_button.clicked.connect(lambda: self.show_month(1))
        self.cancel_button = touch_button("Cancel")
        self.cancel_button.setMinimumWidth(140)
        self.cancel_button.clicked.connect(host.pop)
        top.addWidget(self.earlier_button)
        top.addWidget(self.month_label, 1)
        top.addWidget(self.later_button)
        top.addSpacing(16)
        top.addWidget(self.cancel_button)
        lay.addLayout(top)
        self._grid = QGridLayout()
        self._grid.setSpacing(4)
        for col, name in enumerate(_DAY_NAMES):
            head = QLabel(name)
            head.setFont(theme.font(theme.FONT_SMALL_PX, bold=True))
            self._grid.addWidget(head, 0, col)
        # the day cells, made once: a month change only relabels them (building buttons is the costly part)
        self._cells: list[QPushButton] = []
        self._cell_day: list[date | None] = []
        self._painted = 0  # steps of the layout and paint ahead done (2: laid out and painted, hidden)
        lay.addLayout(self._grid)
        if not ahead:
            self.complete()
        else:
            self._render()

    # -- building (ahead) ---------------------------------------------------------------------------------
    def build_step(self) -> bool:
        """Add one week of day buttons, styled if the panel already sits in its window; once all are there, lay it
        out and paint it once, hidden, in its frame (the first open then only shows it). False if nothing was left."""
        if len(self._cells) >= CELLS:
            return self._paint_ahead()
        week: list[QPushButton] = []
        for k in range(len(self._cells), len(self._cells) + WEEK):
            b = touch_button("", checkable=True)
            b.setFont(theme.font(theme.FONT_LARGE_PX))
            b.setMinimumWidth(80)
            b.clicked.connect(lambda _=False, i=k: self._tapped(i))
            self._grid.addWidget(b, 1 + k // WEEK, k % WEEK)
            self._cells.append(b)
            self._cell_day.append(None)
            week.append(b)
        if self.window() is not self:  # under the window's style sheet: style them now, not when first shown
            for b in week:
                b.ensurePolished()
        self._render()
        return True

    def _paint_ahead(self) -> bool:
        """Two steps: lay out (the size the overlay shows it at, centred at its size hint; a one-pixel paint delivers
        the pending resizes to the grid), then one whole paint (every button's look and digits made)."""
        frame = self.parentWidget()
        if self._painted >= 2 or frame is None or frame.isVisible() or self.window() is self:
            return False
        if self._painted == 0:
            frame.adjustSize()
            frame.grab(QRect(0, 0, 1, 1))
        else:
            frame.grab()
        self._painted += 1
        return True

    def complete(self) -> bool:
        """Build what is still missing now (not the paint ahead: it is about to be shown); True if anything was."""
        missing = len(self._cells) < CELLS
        while len(self._cells) < CELLS:
            self.build_step()
        return missing

    def is_complete(self) -> bool:
        return len(self._cells) >= CELLS

    # -- the month ----------------------------------------------------------------------------------------
    def open_on(self, shown: date, latest: date) -> None:
        """Show ``shown``'s month with ``shown`` checked; nothing after ``latest`` can be chosen (every open: the
        kept panel is reused, the plant's day moves on)."""
        self.complete()
        self._latest, self._chosen = latest, shown
        self._month = date(min(shown, latest).year, min(shown, latest).month, 1)
        self._render()

    def show_month(self, step: int) -> None:
        """The month before (-1) or after (+1) the one shown; never past the latest day's month."""
        y, m = self._month.year, self._month.month + step
        y, m = (y - 1, 12) if m == 0 else (y + 1, 1) if m == 13 else (y, m)
        if date(y, m, 1) <= self._latest:
            self._month = date(y, m, 1)
            self._render()

    def _render(self) -> None:
        self.month_label.setText(f"{self._what} {_MONTHS[self._month.month - 1]} {self._month.year}")
        days = [d for week in calendar.Calendar(firstweekday=0).monthdatescalendar(self._month.year, self._month.month)
                for d in week]
        self.day_buttons = {}
        for k, b in enumerate(self._cells):
            day = days[k] if k < len(days) and days[k].month == self._month.month else None
            self._cell_day[k] = day
            b.setVisible(day is not None)
            if day is None:
                continue
            b.setText(str(day.day))
            b.setChecked(day == self._chosen)
            b.setEnabled(day <= self._latest)
            self.day_buttons[day] = b
        self.later_button.setEnabled(self._next_month_start() <= self._latest)

    def _tapped(self, k: int) -> None:
        day = self._cell_day[k]
        if day is not None:
            self.choose(day)

    def _next_month_start(self) -> date:
        y, m = self._month.year, self._month.month + 1
        return date(y + 1, 1, 1) if m == 13 else date(y, m, 1)

    def choose(self, day: date) -> None:
        if day > self._latest:
            return
        self._host.pop()
        self._on_done(day)
