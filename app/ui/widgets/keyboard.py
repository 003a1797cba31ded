"""An on-screen keyboard for notes and logbook entries: the panel has no physical keyboard.

Big keys (72 px), a QWERTY layout plus digits and the punctuation a note needs; no hover, no auto-repeat. A
longer text (a logbook entry: ``max_chars``, ``multiline`` adds a New line key) shows its last lines while typing,
so the keyboard keeps its size on a 600 px panel.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.widgets.buttons import touch_button

ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM,./")
MAX_CHARS = 200
SHOWN_CHARS = 120  # while typing, at most the last this many characters and lines are shown (the panel's
SHOWN_LINES = 2  # height); the whole text is shown by whoever opened the keyboard


class OnScreenKeyboard(QWidget):
    """Edits one line of text; ``on_done(text)`` on Done, ``on_cancel()`` on Cancel."""

    def __init__(self, title: str, initial: str, on_done: Callable[[str], None],
                 on_cancel: Callable[[], None], parent: QWidget | None = None, max_chars: int = MAX_CHARS,
                 multiline: bool = False) -> None:
        super().__init__(parent)
        self._on_done, self._on_cancel = on_done, on_cancel
        self.max_chars = max_chars
        self._shift = True  # start a note with a capital
        self._text = initial
        outer = QVBoxLayout(self)
        outer.setSpacing(8)
        self.title = QLabel(title)
        self.title.setProperty("kind", "title")
        self.title.setWordWrap(True)
        outer.addWidget(self.title)
        self.display = QLabel()
        self.display.setProperty("kind", "large")
        self.display.setWordWrap(True)
        self.display.setTextFormat(Qt.TextFormat.PlainText)  # typed "<b>" is text, not markup
        self.display.setMinimumHeight(theme.TOUCH_MIN)
        self.display.setStyleSheet(f"background: #ffffff; border: 2px solid {theme.BORDER}; padding: 6px;")
        outer.addWidget(self.display)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.keys: dict[str, QPushButton] = {}
        for r, row in enumerate(ROWS):
            for c, ch in enumerate(row):
                b = touch_button(ch, size="critical")
                b.setMinimumWidth(theme.TOUCH_CRITICAL)
                b.clicked.connect(lambda _=False, ch=ch: self._type(ch))
                grid.addWidget(b, r, c)
                self.keys[ch] = b
        outer.addLayout(grid)
        bottom = QHBoxLayout()
        self.shift_button = touch_button("Shift", size="critical", checkable=True)
        self.shift_button.setChecked(self._shift)
        self.shift_button.toggled.connect(self._set_shift)
        self.space_button = space = touch_button("Space", size="critical")
        space.clicked.connect(lambda: self._type(" "))
        back = touch_button("Delete", size="critical")
        back.clicked.connect(self._backspace)
        clear = touch_button("Clear", size="critical")
        clear.clicked.connect(self._clear)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(lambda: self._on_cancel())
        self.done_button = touch_button("Done", size="critical")
        self.done_button.setProperty("kind", "confirm")
        self.done_button.clicked.connect(lambda: self._on_done(self._text.strip()))
        self.newline_button = touch_button("New line", size="critical")
        self.newline_button.clicked.connect(lambda: self._type("\n"))
        self.newline_button.setVisible(multiline)
        narrow = 20 if multiline else 0  # the New line key's room on a 1024 px panel
        for w, stretch, width in ((self.shift_button, 0, 110), (space, 1, 150 - 3 * narrow),
                                  (self.newline_button, 0, 130), (back, 0, 120), (clear, 0, 110),
                                  (self.cancel_button, 0, 130 - narrow), (self.done_button, 0, 150 - narrow)):
            w.setMinimumWidth(width)
            bottom.addWidget(w, stretch)
        outer.addLayout(bottom)
        self._render()

    def text(self) -> str:
        return self._text

    def start(self, text: str) -> None:
        """Edit ``text`` afresh, Shift on: a keyboard kept and shown again (the journal's search)."""
        self._text = text[:MAX_CHARS]
        self.shift_button.setChecked(True)
        self._render()

    def type_text(self, text: str) -> None:
        """Type a whole string (tests, preset phrases)."""
        for ch in text:
            self._type(ch, keep_case=True)

    def _type(self, ch: str, keep_case: bool = False) -> None:
        if len(self._text) >= self.max_chars:
            return
        if not keep_case and ch.isalpha():
            ch = ch.upper() if self._shift else ch.lower()
            if self._shift:
                self.shift_button.setChecked(False)
        self._text += ch
        self._render()

    def _set_shift(self, on: bool) -> None:
        self._shift = on
        for ch, b in self.keys.items():
            if ch.isalpha():
                b.setText(ch.upper() if on else ch.lower())

    def _backspace(self) -> None:
        self._text = self._text[:-1]
        self._render()

    def _clear(self) -> None:
        self._text = ""
        self._render()

    def _render(self) -> None:
        shown = self._text[-SHOWN_CHARS:]
        lines = shown.split("\n")[-SHOWN_LINES:]
        cut = len(shown) < len(self._text) or len(lines) < shown.count("\n") + 1
        self.display.setText(("\u2026" if cut else "") + "\n".join(lines) + "|")
