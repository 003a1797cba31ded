"""A filter picker drawn over the window: big toggle buttons instead of typing (gloves), "Any" to clear.

``on_done(chosen)`` gets the chosen values (an empty set means any). With ``single`` only one value can be on; with
``done_on_tap`` a tap on a value is the choice (no Show button); ``any_text=None`` leaves out "Any".
Long lists (50 pumps) scroll inside the panel, and the columns are fewer when the options' words would not fit
the window's width, so the panel always fits a 1024 x 600 panel and no word is cut.

A panel can be shown again (``OverlayHost.push(panel, keep=True)``, then :meth:`ChoicePanel.reopen` with what is
chosen now): building and styling 50 buttons costs the GUI thread tens of milliseconds, re-checking them next to
nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.buttons import touch_button
from app.ui.widgets.overlay import OverlayHost

T = TypeVar("T")
_ROOM_FOR_TITLE_AND_BUTTONS = 230  # px of the window kept for the title, the Any/Cancel/Done row and the frame
_ROOM_FOR_FRAME_AND_SCROLLBAR = 120  # px of the window's width kept for the panel's frame, margins and scroll bar


class ChoicePanel(QWidget, Generic[T]):
    def __init__(self, host: OverlayHost, title: str, options: Sequence[tuple[str, T]], chosen: frozenset[T],
                 on_done: Callable[[frozenset[T]], None], single: bool = False, columns: int = 4,
                 any_text: str | None = "Any", done_on_tap: bool = False) -> None:
        super().__init__()
        self._host, self._on_done, self._single, self._done_on_tap = host, on_done, single, done_on_tap
        self.options: tuple[tuple[str, T], ...] = tuple(options)
        self.wanted_columns = self._columns = columns  # fewer if the window is too narrow
        self._measured = False  # the buttons' minimum widths, from the window's style, once shown
        self.buttons: dict[str, QPushButton] = {}
        self._values: dict[str, T] = {}
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        head = QLabel(title)
        head.setProperty("kind", "title")
        lay.addWidget(head)
        self._grid_box = QWidget()
        self._grid = QGridLayout(self._grid_box)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        for text, value in options:
            b = touch_button(text, checkable=True)
            b.setChecked(value in chosen)
            b.setMinimumWidth(120)
            b.clicked.connect(lambda _=False, t=text: self._toggled(t))
            self.buttons[text] = b
            self._values[text] = value
        self._place(columns)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(self._grid_box)
        QScroller.grabGesture(self._scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        lay.addWidget(self._scroll)
        self._size_scroll()
        row = QHBoxLayout()
        self.any_button = touch_button(any_text or "Any", size="critical")
        self.any_button.clicked.connect(self._any)
        self.any_button.setVisible(any_text is not None)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(host.pop)
        self.done_button = touch_button("Show", size="critical")
        self.done_button.setProperty("kind", "confirm")
        self.done_button.clicked.connect(self.done)
        self.done_button.setVisible(not done_on_tap)
        row.addWidget(self.any_button, 1)
        row.addWidget(self.cancel_button, 1)
        row.addWidget(self.done_button, 2)
        lay.addLayout(row)

    def _place(self, columns: int) -> None:
        for i, b in enumerate(self.buttons.values()):
            self._grid.addWidget(b, i // columns, i % columns)  # re-adding moves a button to its new cell

    def _size_scroll(self) -> None:
        hint = self._grid_box.sizeHint()
        room = max(120, self._host.height() - _ROOM_FOR_TITLE_AND_BUTTONS)
        self._scroll.setFixedHeight(min(room, hint.height() + 4))
        self._scroll.setMinimumWidth(hint.width() + (44 if hint.height() > room else 4))

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        """Now the window's style sheet is on the buttons (fonts, padding): no word may be cut, so each button is
        at least as wide as its words, and the options take fewer columns if the window is too narrow for them
        (again at every showing: the window may have changed size since)."""
        super().showEvent(event)
        if not self._measured:
            for b in (*self.buttons.values(), self.any_button, self.cancel_button, self.done_button):
                b.setMinimumWidth(max(b.minimumWidth(), b.sizeHint().width()))
            self._measured = True
        widest = max((b.minimumWidth() for b in self.buttons.values()), default=0)
        spacing = self._grid.horizontalSpacing()
        fit = max(1, (self._host.width() - _ROOM_FOR_FRAME_AND_SCROLLBAR + spacing) // (widest + spacing))
        columns = min(self.wanted_columns, fit)
        if columns != self._columns:
            self._columns = columns
            self._place(columns)
        self._size_scroll()

    def columns(self) -> int:
        """How many columns the options take now (fewer than asked for on a narrow window)."""
        return self._columns

    def offers(self, options: Sequence[tuple[str, T]], columns: int) -> bool:
        """Were these the options (and columns) this panel was built with?"""
        return self.options == tuple(options) and self.wanted_columns == columns

    def reopen(self, chosen: frozenset[T], on_done: Callable[[frozenset[T]], None]) -> None:
        """Show again with ``chosen`` checked (what is chosen now), from the top of the list."""
        self._on_done = on_done
        for text, b in self.buttons.items():
            b.setChecked(self._values[text] in chosen)
        self._scroll.verticalScrollBar().setValue(0)

    def chosen(self) -> frozenset[T]:
        return frozenset(self._values[t] for t, b in self.buttons.items() if b.isChecked())

    def choose(self, text: str) -> None:
        """Tap the option ``text`` (tests, screenshots)."""
        self.buttons[text].click()

    def done(self) -> None:
        chosen = self.chosen()
        self._host.pop()
        self._on_done(chosen)

    def _toggled(self, text: str) -> None:
        if self._single and self.buttons[text].isChecked():
            for t, b in self.buttons.items():
                b.setChecked(t == text)
        if self._done_on_tap:
            self.buttons[text].setChecked(True)  # a tap on the current choice keeps it
            self.done()

    def _any(self) -> None:
        for b in self.buttons.values():
            b.setChecked(False)
        self.done()
