"""Confirmation and choice panels drawn over the whole window (no nested event loop, no tiny dialogs).

Every consequential action goes through a :class:`ConfirmPanel`: a title that names what will happen, optional
big choice buttons (shelve for 15 min / 1 h / 8 h / until cleared), optional note (preset phrases or the on-screen
keyboard), and two large buttons, Cancel and the action itself.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.buttons import touch_button
from app.ui.widgets.keyboard import OnScreenKeyboard

NOTE_PRESETS = ("Checked on site", "Known cause", "Maintenance informed", "Operating change")
T = TypeVar("T")  # what a choice button stands for (a ShelveSpec for the shelve panel)


class OverlayHost(QWidget):
    """A dimmed layer over the whole window that shows one panel at a time, centred."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._layout = QVBoxLayout(self)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._host = parent
        self._stack: list[tuple[QFrame, QWidget, bool]] = []  # (frame, panel, kept), bottom to top
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._host.rect())
        return False

    def push(self, panel: QWidget, keep: bool = False) -> None:
        """Show ``panel`` on top (the one under it comes back when it is popped). A ``keep`` panel is hidden, not
        deleted, when popped, and pushed again as it is: built once (a 50-button picker costs the GUI thread tens
        of ms to build and style); :meth:`discard` deletes it when it is no longer wanted."""
        if self._stack:
            self._stack[-1][0].hide()
        frame = (self._kept_frame(panel) if keep else None) or self._frame(panel)
        self._stack.append((frame, panel, keep))
        self.setGeometry(self._host.rect())
        self.show()
        frame.show()  # now, not on the next event-loop turn
        self.raise_()

    def pop(self) -> None:
        if not self._stack:
            return
        frame, _panel, keep = self._stack.pop()
        frame.hide()
        if not keep:
            frame.deleteLater()
        if self._stack:
            self._stack[-1][0].show()
        else:
            self.hide()

    def prepare(self, panel: QWidget) -> bool:
        """Put a panel that will be pushed with ``keep`` in its frame now, hidden, and style it (the window's style
        sheet), so that its first push only shows it. False if it was there already."""
        if self._kept_frame(panel) is not None:
            return False
        frame = self._frame(panel)
        frame.hide()  # explicitly: a widget added to a shown parent's layout would be shown on the next turn
        frame.ensurePolished()  # the frame and everything in it
        return True

    def _frame(self, panel: QWidget) -> QFrame:
        frame = QFrame()
        frame.setObjectName("overlayPanel")
        lay = QVBoxLayout(frame)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.addWidget(panel)
        self._layout.addWidget(frame, 0, Qt.AlignmentFlag.AlignCenter)
        return frame

    def discard(self, panel: QWidget) -> None:
        """Delete a kept panel that will not be pushed again; it is popped first if it is on the stack."""
        while any(p is panel for _, p, _ in self._stack):
            self.pop()
        frame = self._kept_frame(panel)
        if frame is not None:
            frame.deleteLater()

    def _kept_frame(self, panel: QWidget) -> QFrame | None:
        """The frame a panel was pushed in before and still lives in, or None."""
        frame = panel.parentWidget()
        return frame if isinstance(frame, QFrame) and frame.parentWidget() is self else None

    def clear(self) -> None:
        while self._stack:
            self.pop()

    def panels(self) -> list[QWidget]:
        """The panels on the stack, bottom to top."""
        return [p for _, p, _ in self._stack]

    def top(self) -> QWidget | None:
        """The panel on top (the widget that was pushed), or None."""
        return self._stack[-1][1] if self._stack else None

    def is_open(self) -> bool:
        return bool(self._stack)


class ConfirmPanel(QWidget, Generic[T]):
    """Title, text, optional choices and note, then Cancel / Confirm. ``on_confirm(choice, note)``."""

    def __init__(self, host: OverlayHost, title: str, text: str, confirm_text: str,
                 on_confirm: Callable[[T | None, str | None], None], choices: Sequence[tuple[str, T]] = (),
                 with_note: bool = False, notes: Sequence[str] = NOTE_PRESETS,
                 choice_prompt: str = "Choose one (required):") -> None:
        super().__init__()
        self._host, self._on_confirm = host, on_confirm
        self.choice: T | None = None  # the chosen value (how to shelve), once one is tapped
        self.note: str | None = None
        self.setMinimumWidth(720)
        lay = QVBoxLayout(self)
        lay.setSpacing(14)
        head = QLabel(title)
        head.setProperty("kind", "title")
        head.setWordWrap(True)
        lay.addWidget(head)
        if text:
            body = QLabel(text)
            body.setProperty("kind", "large")
            body.setWordWrap(True)
            lay.addWidget(body)
        self.choice_buttons: dict[str, QPushButton] = {}
        if choices:
            lay.addWidget(QLabel(choice_prompt))
            row = QHBoxLayout()
            group = QButtonGroup(self)
            for label, value in choices:
                b = touch_button(label, size="critical", checkable=True)
                group.addButton(b)
                b.clicked.connect(lambda _=False, v=value: self._choose(v))
                row.addWidget(b)
                self.choice_buttons[label] = b
            lay.addLayout(row)
        self.note_buttons: dict[str, QPushButton] = {}
        self.note_label = QLabel("")
        if with_note:
            lay.addWidget(self._note_section(notes))
        buttons = QHBoxLayout()
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(self.cancel)
        self.confirm_button = touch_button(confirm_text, size="critical")
        self.confirm_button.setProperty("kind", "confirm")
        self.confirm_button.setEnabled(not choices)
        self.confirm_button.clicked.connect(self.confirm)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.confirm_button, 2)
        lay.addSpacing(8)
        lay.addLayout(buttons)

    def _note_section(self, notes: Sequence[str]) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lab = QLabel("Note (optional):")
        lay.addWidget(lab)
        grid = QGridLayout()  # three across, "Type a note..." in the last cell: two rows fit a 600 px panel
        group = QButtonGroup(self)
        group.setExclusive(False)
        for i, phrase in enumerate(notes):
            b = touch_button(phrase, checkable=True)
            b.clicked.connect(lambda checked, p=phrase: self._preset(p, checked))
            grid.addWidget(b, i // 3, i % 3)
            self.note_buttons[phrase] = b
        self.type_button = touch_button("Type a note...")
        self.type_button.clicked.connect(self.open_keyboard)
        grid.addWidget(self.type_button, len(notes) // 3, len(notes) % 3)
        lay.addLayout(grid)
        self.note_label.setProperty("kind", "large")
        self.note_label.setWordWrap(True)
        self.note_label.hide()  # shown with the typed note
        lay.addWidget(self.note_label)
        return box

    def _choose(self, value: T) -> None:
        self.choice = value
        self.confirm_button.setEnabled(True)

    def _preset(self, phrase: str, checked: bool) -> None:
        for p, b in self.note_buttons.items():
            if p != phrase:
                b.setChecked(False)
        self._set_note(phrase if checked else None)

    def _set_note(self, note: str | None) -> None:
        self.note = note or None
        self.note_label.setText(f'"{self.note}"' if self.note else "")
        self.note_label.setVisible(self.note is not None and self.note not in self.note_buttons)  # typed, not a preset

    def open_keyboard(self) -> None:
        def done(text: str) -> None:
            self._host.pop()
            for b in self.note_buttons.values():
                b.setChecked(False)
            self._set_note(text)

        self._host.push(OnScreenKeyboard("Note", self.note or "", done, self._host.pop))

    def keyboard(self) -> OnScreenKeyboard | None:
        top = self._host.top()
        return top if isinstance(top, OnScreenKeyboard) else None

    def cancel(self) -> None:
        self._host.pop()

    def confirm(self) -> None:
        choice, note = self.choice, self.note
        self._host.pop()
        self._on_confirm(choice, note)
