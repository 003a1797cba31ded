"""A filter picker drawn over the window: big toggle buttons instead of typing (gloves), "Any" to clear.

``on_done(chosen)`` gets the chosen values (an empty set means any). With ``single`` only one value can be on.
Long lists (50 pumps) scroll inside the panel, so the panel always fits a 1024 x 600 panel.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
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


class ChoicePanel(QWidget, Generic[T]):
    def __init__(self, host: OverlayHost, title: str, options: Sequence[tuple[str, T]], chosen: frozenset[T],
                 on_done: Callable[[frozenset[T]], None], single: bool = False, columns: int = 4,
                 any_text: str = "Any") -> None:
        super().__init__()
        self._host, self._on_done, self._single = host, on_done, single
        self.buttons: dict[str, QPushButton] = {}
        self._values: dict[str, T] = {}
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        head = QLabel(title)
        head.setProperty("kind", "title")
        lay.addWidget(head)
        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        for i, (text, value) in enumerate(options):
            b = touch_button(text, checkable=True)
            b.setChecked(value in chosen)
            b.setMinimumWidth(120)
            b.clicked.connect(lambda _=False, t=text: self._toggled(t))
            grid.addWidget(b, i // columns, i % columns)
            self.buttons[text] = b
            self._values[text] = value
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(grid_box)
        room = max(120, host.height() - _ROOM_FOR_TITLE_AND_BUTTONS)
        scroll.setFixedHeight(min(room, grid_box.sizeHint().height() + 4))
        scroll.setMinimumWidth(grid_box.sizeHint().width() + (44 if grid_box.sizeHint().height() > room else 4))
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        lay.addWidget(scroll)
        row = QHBoxLayout()
        self.any_button = touch_button(any_text, size="critical")
        self.any_button.clicked.connect(self._any)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(host.pop)
        self.done_button = touch_button("Show", size="critical")
        self.done_button.setProperty("kind", "confirm")
        self.done_button.clicked.connect(self.done)
        row.addWidget(self.any_button, 1)
        row.addWidget(self.cancel_button, 1)
        row.addWidget(self.done_button, 2)
        lay.addLayout(row)

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

    def _any(self) -> None:
        for b in self.buttons.values():
            b.setChecked(False)
        self.done()
